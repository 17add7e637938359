import type { IndexFields } from '../../projection';
import type { ReadStore } from '../../read-store.port';
import { page, type Page, type PageOptions } from '../query-support';
import { REIMBURSEMENTS, type ReimbursementRow } from './reimbursements.projection';

export interface ReimbursementsQuery extends PageOptions {
  readonly incidentId?: string;
  readonly accountId?: string;
  readonly asset?: string;
}

/** Reimbursements in the order the ledger recorded them. */
export async function reimbursements(rs: ReadStore, query: ReimbursementsQuery = {}): Promise<Page<ReimbursementRow>> {
  const filter: IndexFields = { incidentId: query.incidentId, accountId: query.accountId, asset: query.asset };
  return page<ReimbursementRow, ReimbursementRow>(rs, REIMBURSEMENTS, filter, query, (doc) => doc);
}
