import type { EventStore } from './event-store.port';
import { openSqliteEventStore } from './sqlite/sqlite-event-store';

/** Where the ledger's events live, parsed from LEDGER_EVENT_STORE (DESIGN §4). */
export type EventStoreLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'esdb'; readonly url: string };

/** Opens the adapter a location names. Only sqlite exists so far; the others fail at start-up, clearly. */
export async function openEventStore(location: EventStoreLocation): Promise<EventStore> {
  switch (location.kind) {
    case 'sqlite':
      return openSqliteEventStore({ path: location.path });
    case 'postgres':
    case 'esdb':
      throw new Error(`the ${location.kind} event store adapter is not available yet; use a sqlite: location`);
  }
}
