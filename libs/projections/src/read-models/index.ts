import type { Projection } from '../projection';
import { balancesProjection } from './balances.projection';
import { incidentLedgerProjection } from './incident-ledger.projection';
import { lossTotalsProjection } from './loss-totals.projection';
import { protectionClaimsProjection } from './protection-claims.projection';
import { reimbursementsProjection } from './reimbursements.projection';
import { riskAlertsProjection } from './risk-alerts.projection';

export * from './balances.projection';
export * from './incident-ledger.projection';
export * from './loss-totals.projection';
export * from './protection-claims.projection';
export * from './reimbursements.projection';
export * from './risk-alerts.projection';

/** Every read model the ledger serves: what the API's reads, the CLI's rebuild and reconcile fold. */
export const ALL_PROJECTIONS: readonly Projection[] = [
  balancesProjection,
  incidentLedgerProjection,
  lossTotalsProjection,
  reimbursementsProjection,
  protectionClaimsProjection,
  riskAlertsProjection,
];
