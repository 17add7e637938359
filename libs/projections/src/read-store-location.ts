import type { ReadStore } from './read-store.port';
import { openPostgresReadStore } from './postgres/postgres-read-store';
import { openSqliteReadStore } from './sqlite/sqlite-read-store';

/** Where read models and their checkpoints live, from LEDGER_READ_STORE (or derived from the event store). */
export type ReadStoreLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

export async function openReadStore(location: ReadStoreLocation): Promise<ReadStore> {
  switch (location.kind) {
    case 'sqlite':
      return openSqliteReadStore({ path: location.path });
    case 'postgres':
      // Its own schema (read_models), so that it may share the event store's database without meeting its tables.
      return openPostgresReadStore({ connectionString: location.url });
  }
}
