import type { Projection, ReadModelRow } from '../projection';
import { normalizeIndex, type ReadStore } from '../read-store.port';

/** Every row of every projection, by name, with indexes in their stored form: what two read stores must agree on. */
export async function snapshot(rs: ReadStore, projections: readonly Projection[]): Promise<Record<string, ReadModelRow[]>> {
  const all: Record<string, ReadModelRow[]> = {};
  for (const { name } of projections) {
    const rows: ReadModelRow[] = [];
    for await (const row of rs.rows(name)) rows.push({ key: row.key, doc: row.doc, index: normalizeIndex(row.index) });
    all[name] = rows;
  }
  return all;
}
