import type { EventStore } from './event-store.port';
import { openEsdbEventStore } from './esdb/esdb-event-store';
import { openPostgresEventStore } from './postgres/postgres-event-store';
import { openSqliteEventStore } from './sqlite/sqlite-event-store';

/** Where the ledger's events live, parsed from LEDGER_EVENT_STORE, so that one setting chooses the adapter. */
export type EventStoreLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'esdb'; readonly url: string };

/** Opens the adapter a location names (LEDGER_EVENT_STORE: sqlite:<file>, postgres://..., esdb://...). */
export async function openEventStore(location: EventStoreLocation): Promise<EventStore> {
  switch (location.kind) {
    case 'sqlite':
      return openSqliteEventStore({ path: location.path });
    case 'postgres':
      return openPostgresEventStore({ connectionString: location.url });
    case 'esdb':
      return openEsdbEventStore({ connectionString: location.url });
  }
}
