import { ASSET_CODES, formatUsdCents, parseUsdCents, type AssetCode } from '@app/domain';
import type { ReadStore } from '../../read-store.port';
import { LOSS_TOTALS, type IncidentRow, type LossTotalsRow } from './loss-totals.projection';

export interface IncidentLossTotals {
  readonly incidentId: string;
  readonly title: string;
  readonly openedAt: string;
  /** One entry per asset with an unauthorized withdrawal, by asset code. */
  readonly assets: LossTotalsRow[];
  /**
   * Sums of the per-asset USD values shown (each already rounded to the cent), so the lines add up to the total.
   * Assets without a price are left out of the sums and listed in unpricedAssets.
   */
  readonly totalLostUsd: string;
  readonly totalReimbursedUsd: string;
  /** What approved protection claims paid, in USD. */
  readonly totalPayoutUsd: string;
  readonly totalOutstandingUsd: string;
  readonly unpricedAssets: AssetCode[];
}

/** Per-asset loss totals of an incident with their USD sums; null when no such incident was opened. */
export async function lossTotals(rs: ReadStore, incidentId: string): Promise<IncidentLossTotals | null> {
  // The incident's row and at most one total per asset.
  const rows = await rs.list<IncidentRow | LossTotalsRow>(LOSS_TOTALS, { filter: { incidentId }, limit: ASSET_CODES.length + 1 });
  const incident = rows.find((row) => row.index.asset === null)?.doc as IncidentRow | undefined;
  if (incident === undefined) return null;
  const assets = rows.filter((row) => row.index.asset !== null).map((row) => row.doc as LossTotalsRow);
  assets.sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
  const sum = (field: 'lostUsd' | 'reimbursedUsd' | 'outstandingUsd'): string =>
    formatUsdCents(assets.reduce((cents, total) => cents + (total[field] === null ? 0n : parseUsdCents(total[field])), 0n));
  return {
    incidentId,
    title: incident.title,
    openedAt: incident.openedAt,
    assets,
    totalLostUsd: sum('lostUsd'),
    totalReimbursedUsd: sum('reimbursedUsd'),
    totalPayoutUsd: formatUsdCents(assets.reduce((cents, total) => cents + parseUsdCents(total.payoutUsd), 0n)),
    totalOutstandingUsd: sum('outstandingUsd'),
    unpricedAssets: assets.filter((total) => total.priceUsd === null).map((total) => total.asset),
  };
}
