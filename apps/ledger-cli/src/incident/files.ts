import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VerifiedIncidentReport } from '@app/incident-scenario';
import { reimbursementsCsv } from '@app/projections';
import { UsageError } from '../cli-errors';
import { incidentHtml } from './html-report';

/** RFC 4180: a field with a comma, a quote or a line break is quoted, and its quotes doubled; CRLF line ends. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

type CsvCell = string | number | boolean | null;

export function csv(headers: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const line = (cells: readonly CsvCell[]) => `${cells.map((cell) => csvField(cell === null ? '' : String(cell))).join(',')}\r\n`;
  return line(headers) + rows.map(line).join('');
}

/** Per asset: lost, prevented, reimbursed, paid out by protection claims, outstanding, with USD values. */
export function lossesCsv(report: VerifiedIncidentReport): string {
  const figures = report.report;
  const usd = (list: readonly { asset: string; usd: string }[], asset: string) => list.find((figure) => figure.asset === asset)?.usd ?? '0.00';
  const rows = report.lossTotals.map((row) => [
    row.incidentId,
    row.asset,
    row.lost,
    row.lostUsd,
    row.prevented,
    usd(figures.prevented, row.asset),
    row.reimbursed,
    row.reimbursedUsd,
    row.paidOut,
    row.payoutUsd,
    row.outstanding,
    row.outstandingUsd,
    row.priceUsd,
    row.priceRecordedAt,
    row.affectedAccounts,
  ]);
  const headers = ['incidentId', 'asset', 'lost', 'lostUsd', 'prevented', 'preventedUsd', 'reimbursed', 'reimbursedUsd', 'paidOut', 'payoutUsd', 'outstanding', 'outstandingUsd', 'priceUsd', 'priceRecordedAt', 'affectedAccounts'];
  return csv(headers, rows);
}

/** One line per affected account and asset, from the incident ledger. */
export function affectedAccountsCsv(report: VerifiedIncidentReport): string {
  const rows = report.accounts.flatMap((account) =>
    Object.entries(account.assets).map(([asset, loss]) => {
      const withdrawals = account.withdrawals.filter((w) => w.asset === asset);
      return [
        account.incidentId,
        account.accountId,
        account.status,
        asset,
        loss!.lost,
        loss!.prevented,
        loss!.reimbursed,
        loss!.paidOut,
        loss!.payoutUsd,
        loss!.outstanding,
        withdrawals.filter((w) => w.outcome === 'loss').length,
        withdrawals.filter((w) => w.outcome === 'prevented').length,
      ];
    }),
  );
  return csv(['incidentId', 'accountId', 'accountStatus', 'asset', 'lost', 'prevented', 'reimbursed', 'paidOut', 'payoutUsd', 'outstanding', 'withdrawalsLost', 'withdrawalsPrevented'], rows);
}

export function claimsCsv(report: VerifiedIncidentReport): string {
  const rows = report.claims.map((claim) => [
    claim.accountId,
    claim.claimId,
    claim.withdrawalId,
    claim.status,
    claim.filedAt,
    claim.decidedAt,
    claim.claimedUsd,
    claim.payoutUsd,
    claim.capped,
    claim.reasons.join(';'),
    claim.policeReportReference,
    claim.policeReportCopyProvided,
    claim.questionnaireCompleted,
    claim.deviceJailbroken,
  ]);
  const headers = ['accountId', 'claimId', 'withdrawalId', 'status', 'filedAt', 'decidedAt', 'claimedUsd', 'payoutUsd', 'capped', 'reasons', 'policeReportReference', 'policeReportCopyProvided', 'questionnaireCompleted', 'deviceJailbroken'];
  return csv(headers, rows);
}

/** Each file appears complete or not at all: written beside its name, then renamed. */
async function writeWhole(path: string, text: string): Promise<void> {
  const partial = `${path}.partial-${process.pid}`;
  await writeFile(partial, text, 'utf8');
  await rename(partial, path);
}

/** --out DIR: the finance CSVs and report.html. Returns the paths written. */
/** With `defended` (--defences on), report.html shows the defended run beside the historical one. */
export async function writeIncidentFiles(dir: string, report: VerifiedIncidentReport, defended?: VerifiedIncidentReport): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`cannot create --out ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const files: [string, string][] = [
    ['losses.csv', lossesCsv(report)],
    ['reimbursements.csv', reimbursementsCsv(report.reimbursements)],
    ['affected-accounts.csv', affectedAccountsCsv(report)],
    ['claims.csv', claimsCsv(report)],
    ['report.html', incidentHtml(report, defended)],
  ];
  const written: string[] = [];
  for (const [name, text] of files) {
    const path = join(dir, name);
    await writeWhole(path, text);
    written.push(path);
  }
  return written;
}
