import { INDEX_FIELD_NAMES, type ReadModelRow } from './projection';

/** A read-model row as both SQL read stores keep it: the doc as JSON text, each filter field in its own column. */
export interface StoredRow {
  readonly key: string;
  readonly doc: string;
  readonly account_id: string | null;
  readonly incident_id: string | null;
  readonly asset: string | null;
  readonly status: string | null;
}

export type FilterField = (typeof INDEX_FIELD_NAMES)[number];

/** Columns of the filter fields, in the order a list picks its index: the most selective field first. */
export const FILTER_COLUMNS: Readonly<Record<FilterField, string>> = {
  accountId: 'account_id',
  incidentId: 'incident_id',
  asset: 'asset',
  status: 'status',
};

export function toReadModelRow<Doc>(row: StoredRow): ReadModelRow<Doc> {
  return {
    key: row.key,
    doc: JSON.parse(row.doc) as Doc,
    index: { accountId: row.account_id, incidentId: row.incident_id, asset: row.asset, status: row.status },
  };
}
