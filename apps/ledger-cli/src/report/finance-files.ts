import type { AssetCode } from '@app/domain';
import { parseUsdCents } from '@app/domain';
import { csv } from '../incident/files';
import { usd, usdCentsAt, type IncidentFinance } from './incident-finance';

export const FINANCE_FILES = { accounts: 'accounts.csv', reimbursements: 'reimbursements.csv', losses: 'losses.csv', html: 'report.html' } as const;

const sum = (values: readonly (bigint | null)[]): bigint => values.reduce<bigint>((total, value) => total + (value ?? 0n), 0n);

/** One row per affected account: what it lost, was reimbursed and paid out, in USD at the recorded prices; a totals row last. */
export function accountsCsv(finance: IncidentFinance): string {
  const rows = finance.accounts.map((account) => {
    const assets = Object.entries(account.assets) as [AssetCode, NonNullable<(typeof account.assets)[AssetCode]>][];
    const lostCents = sum(assets.map(([asset, loss]) => usdCentsAt(finance, asset, loss.lost)));
    const reimbursedCents = sum(assets.map(([asset, loss]) => usdCentsAt(finance, asset, loss.reimbursed)));
    const outstandingCents = sum(assets.map(([asset, loss]) => usdCentsAt(finance, asset, loss.outstanding)));
    const payoutCents = sum(assets.map(([, loss]) => parseUsdCents(loss.payoutUsd)));
    return {
      cells: [
        account.incidentId,
        account.accountId,
        account.status,
        assets.map(([asset, loss]) => `${asset} ${loss.lost}`).join('; '),
        usd(lostCents),
        usd(reimbursedCents),
        usd(payoutCents),
        usd(outstandingCents),
        account.withdrawals.filter((w) => w.outcome === 'loss').length,
        account.withdrawals.filter((w) => w.outcome === 'prevented').length,
      ],
      cents: [lostCents, reimbursedCents, payoutCents, outstandingCents],
    };
  });
  const total = (index: number) => usd(sum(rows.map((row) => row.cents[index]!)));
  const totals = ['TOTAL', `${rows.length} accounts`, '', '', total(0), total(1), total(2), total(3), sum(rows.map((row) => BigInt(row.cells[8] as number))).toString(), sum(rows.map((row) => BigInt(row.cells[9] as number))).toString()];
  const headers = ['incidentId', 'accountId', 'status', 'lost', 'lostUsd', 'reimbursedUsd', 'payoutUsd', 'outstandingUsd', 'withdrawalsLost', 'withdrawalsPrevented'];
  return csv(headers, [...rows.map((row) => row.cells), totals]);
}

/** One row per reimbursement, each with a reference no other row has, valued at the incident's recorded price. */
export function reimbursementsCsv(finance: IncidentFinance): string {
  const rows = finance.reimbursements.map((row) => {
    const cents = usdCentsAt(finance, row.asset, row.amount);
    const price = finance.totals.assets.find((asset) => asset.asset === row.asset)?.priceUsd ?? '';
    return { cells: [`RB-${row.incidentId}-${row.accountId}-${row.reimbursementId}`, row.accountId, row.reimbursementId, row.asset, row.amount, price, usd(cents), row.reimbursedAt, row.position], cents };
  });
  const totals = ['TOTAL', `${rows.length} reimbursements`, '', '', '', '', usd(sum(rows.map((row) => row.cents))), '', ''];
  return csv(['reference', 'accountId', 'reimbursementId', 'asset', 'amount', 'priceUsd', 'usd', 'reimbursedAt', 'position'], [...rows.map((row) => row.cells), totals]);
}

/** Per asset, as the loss totals read model holds it; a totals row of the USD columns last. */
export function lossesCsv(finance: IncidentFinance): string {
  const assets = finance.totals.assets;
  const cents = (pick: (row: (typeof assets)[number]) => string | null) => usd(sum(assets.map((row) => (pick(row) === null ? null : parseUsdCents(pick(row)!)))));
  const rows = assets.map((row) => [row.asset, row.lost, row.lostUsd ?? '', row.prevented, row.reimbursed, row.reimbursedUsd ?? '', row.paidOut, row.payoutUsd, row.outstanding, row.outstandingUsd ?? '', row.priceUsd ?? '', row.priceRecordedAt ?? '', row.affectedAccounts]);
  const totals = ['TOTAL', '', cents((row) => row.lostUsd), '', '', cents((row) => row.reimbursedUsd), '', cents((row) => row.payoutUsd), '', cents((row) => row.outstandingUsd), '', '', ''];
  const headers = ['asset', 'lost', 'lostUsd', 'prevented', 'reimbursed', 'reimbursedUsd', 'paidOut', 'payoutUsd', 'outstanding', 'outstandingUsd', 'priceUsd', 'priceRecordedAt', 'affectedAccounts'];
  return csv(headers, [...rows, totals]);
}
