import { assertNever, type Amount, type AssetCode } from '@app/domain';
import type { RecordedEvent } from '@app/event-store';
import type { Projection, ReadModelView } from '../../projection';
import { accountIdOf, dataOf, positionKey } from '../support';

export const REIMBURSEMENTS = 'reimbursements';

type Handled = 'Reimbursed';
const HANDLES = new Set<Handled>(['Reimbursed']);

/** One reimbursement, for finance. */
export interface ReimbursementRow {
  readonly reimbursementId: string;
  readonly accountId: string;
  readonly incidentId: string;
  readonly asset: AssetCode;
  readonly amount: Amount;
  readonly reimbursedAt: string;
  /** The event's log position, as a decimal string. */
  readonly position: string;
}

function evolve(view: ReadModelView, event: RecordedEvent): void {
  const type = event.type as Handled;
  switch (type) {
    case 'Reimbursed': {
      const { reimbursementId, incidentId, asset, amount, reimbursedAt } = dataOf(event, type);
      const accountId = accountIdOf(event);
      const row: ReimbursementRow = {
        reimbursementId,
        accountId,
        incidentId,
        asset,
        amount,
        reimbursedAt,
        position: event.position.toString(),
      };
      view.put(positionKey(event.position), row, { accountId, incidentId, asset });
      return;
    }
    default:
      return assertNever(type);
  }
}

/**
 * Every reimbursement, one row each, keyed by log position (zero-padded) so that listings and exports are in the
 * order the ledger recorded them. Reimbursement ids are unique per account only, so they are not the key.
 */
export const reimbursementsProjection: Projection = { name: REIMBURSEMENTS, version: 1, handles: HANDLES, evolve, partitionedBy: 'stream' };

export const REIMBURSEMENTS_CSV_COLUMNS = [
  'reimbursementId',
  'accountId',
  'incidentId',
  'asset',
  'amount',
  'reimbursedAt',
  'position',
] as const satisfies readonly (keyof ReimbursementRow)[];

/** RFC 4180: a field with a comma, a quote or a line break is quoted, and its quotes doubled. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV record (with its CRLF), for exports written a page at a time. */
export function reimbursementCsvLine(row: ReimbursementRow): string {
  return `${REIMBURSEMENTS_CSV_COLUMNS.map((column) => csvField(String(row[column]))).join(',')}\r\n`;
}

export const REIMBURSEMENTS_CSV_HEADER = `${REIMBURSEMENTS_CSV_COLUMNS.join(',')}\r\n`;

/** Reimbursements as CSV (RFC 4180): a header line, then one record per row; amounts as their decimal strings. */
export function reimbursementsCsv(rows: readonly ReimbursementRow[]): string {
  return REIMBURSEMENTS_CSV_HEADER + rows.map(reimbursementCsvLine).join('');
}
