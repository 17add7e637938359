import type { ReadStore } from '../../read-store.port';
import { oneOf, page, type Page, type PageOptions } from '../query-support';
import { PROTECTION_CLAIM_STATUSES, PROTECTION_CLAIMS, type ProtectionClaimRow, type ProtectionClaimStatus } from './protection-claims.projection';

export interface ProtectionClaimsQuery extends PageOptions {
  readonly status?: string;
  readonly accountId?: string;
}

/** Protection claims by account and claim id. */
export async function protectionClaims(rs: ReadStore, query: ProtectionClaimsQuery = {}): Promise<Page<ProtectionClaimRow>> {
  const status = query.status === undefined ? undefined : oneOf<ProtectionClaimStatus>('status', query.status, PROTECTION_CLAIM_STATUSES);
  return page<ProtectionClaimRow, ProtectionClaimRow>(rs, PROTECTION_CLAIMS, { status, accountId: query.accountId }, query, (doc) => doc);
}
