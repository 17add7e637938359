import type { Projection } from '../projection';
import { balancesProjection } from './balances/balances.projection';
import { incidentLedgerProjection } from './incident-ledger/incident-ledger.projection';
import { lossTotalsProjection } from './loss-totals/loss-totals.projection';
import { protectionClaimsProjection } from './protection-claims/protection-claims.projection';
import { reimbursementsProjection } from './reimbursements/reimbursements.projection';
import { riskAlertsProjection } from './risk-alerts/risk-alerts.projection';

export * from './balances/balances.projection';
export * from './incident-ledger/incident-ledger.projection';
export * from './loss-totals/loss-totals.projection';
export * from './protection-claims/protection-claims.projection';
export * from './reimbursements/reimbursements.projection';
export * from './risk-alerts/risk-alerts.projection';

/** Every read model the ledger serves: what the API's reads, the CLI's rebuild and reconcile fold. */
export const ALL_PROJECTIONS: readonly Projection[] = [
  balancesProjection,
  incidentLedgerProjection,
  lossTotalsProjection,
  reimbursementsProjection,
  protectionClaimsProjection,
  riskAlertsProjection,
];
