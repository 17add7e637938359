import type { IndexFields } from '../../projection';
import type { ReadStore } from '../../read-store.port';
import { oneOf, page, type Page, type PageOptions } from '../query-support';
import { INCIDENT_ACCOUNT_STATUSES, INCIDENT_LEDGER, type IncidentLedgerAssetRow, type IncidentLedgerRow } from './incident-ledger.projection';

export interface IncidentLedgerQuery extends PageOptions {
  readonly accountId?: string;
  /** Only accounts with an unauthorized withdrawal of this asset; each item then shows that asset only. */
  readonly asset?: string;
  /** With an asset: the status of that asset alone. */
  readonly status?: string;
}

/** One account in an incident: its unauthorized withdrawals, per-asset losses and reimbursements, its status. */
export type IncidentLedgerEntry = IncidentLedgerRow;

/** The incident ledger: every affected account of an incident, by account id. */
export async function incidentLedger(rs: ReadStore, incidentId: string, query: IncidentLedgerQuery = {}): Promise<Page<IncidentLedgerEntry>> {
  const status = query.status === undefined ? undefined : oneOf('status', query.status, INCIDENT_ACCOUNT_STATUSES);
  const filter: IndexFields = { incidentId, accountId: query.accountId, status, asset: query.asset ?? null };
  if (query.asset === undefined) {
    return page<IncidentLedgerRow, IncidentLedgerEntry>(rs, INCIDENT_LEDGER, filter, query, (doc) => doc);
  }
  return page<IncidentLedgerAssetRow, IncidentLedgerEntry>(rs, INCIDENT_LEDGER, filter, query, (doc) => ({
    incidentId: doc.incidentId,
    accountId: doc.accountId,
    status: doc.status,
    withdrawals: doc.withdrawals,
    assets: {
      [doc.asset]: { lost: doc.lost, prevented: doc.prevented, reimbursed: doc.reimbursed, paidOut: doc.paidOut, payoutUsd: doc.payoutUsd, outstanding: doc.outstanding },
    },
  }));
}
