import { describeEventStoreConformance } from '../testing/conformance';
import { EsdbEventStore } from './esdb-event-store';
import { InMemoryEsdbServer } from './testing/in-memory-esdb-client';

/**
 * The port's whole conformance suite on the EventStoreDB adapter, against the in-memory stand-in for the server
 * (testing/in-memory-esdb-client.ts), so that it runs on every `npm test`. esdb-event-store.int-spec.ts runs the same
 * suite against a real server when EVENTSTORE_CONNECTION_STRING names one. Each test gets its own server; a reopen
 * is a new connection to it.
 */
describeEventStoreConformance(
  'esdb (in-memory stand-in)',
  async () => {
    const server = new InMemoryEsdbServer();
    const opened: EsdbEventStore[] = [];
    const open = async (): Promise<EsdbEventStore> => {
      const store = new EsdbEventStore(server.client(), { retryDelayMs: () => 1 });
      opened.push(store);
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: async () => void (await Promise.all(opened.map((store) => store.close()))),
    };
  },
  { globalEventIdUniqueness: false },
);
