import { randomUUID } from 'node:crypto';
import { BACKWARDS, END } from './esdb-client';
import { connectEsdb, parseEsdbConnectionString } from './esdb-connection';
import type { RecordedEvent } from '../event-store.port';
import { describeEventStoreConformance } from '../testing/conformance';
import { anEvent } from '../testing/test-events';
import { openEsdbEventStore, type EsdbEventStore, type EsdbEventStoreOptions } from './esdb-event-store';

/**
 * The conformance suite against a real EventStoreDB, when EVENTSTORE_CONNECTION_STRING names one, for example
 * `esdb://eventstore1:2111,eventstore2:2112,eventstore3:2113?tls=false` for the compose cluster (the user must be
 * allowed to read $all: admin by default). esdb-event-store.standin.int-spec.ts runs the same suite on the stand-in.
 *
 * An EventStoreDB database cannot be dropped, and the suite assumes each test starts on an empty log (it reads the
 * whole log, and expects no head before its first append). So each test gets a store isolated in the shared
 * database: its own namespace (a random prefix on every stream it writes, and the only streams it reads back), and
 * a log origin at the current end of $all, so that reading "the whole log" does not scan every earlier run.
 */
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING?.trim();

// A real cluster is slower than a file: the long-stream tests append 10,000 events.
jest.setTimeout(120_000);

/** The position of the last record of $all now, if the server can read from it (a record start). */
async function endOfLog(url: string): Promise<bigint | undefined> {
  const client = connectEsdb(parseEsdbConnectionString(url));
  try {
    for await (const resolved of client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 })) {
      const position = resolved.event?.position;
      return position !== undefined && position.commit === position.prepare ? position.commit : undefined;
    }
    return undefined;
  } finally {
    await client.dispose();
  }
}

/** Opens stores on one isolated part of the database; `cleanup` closes them (the streams stay: nothing deletes). */
async function isolatedStores(url: string, overrides: Partial<EsdbEventStoreOptions> = {}) {
  const settings: EsdbEventStoreOptions = {
    connectionString: url,
    namespace: `conformance-${randomUUID()}-`,
    logOrigin: await endOfLog(url),
    ...overrides,
  };
  const opened: EsdbEventStore[] = [];
  const open = async (): Promise<EsdbEventStore> => {
    const store = await openEsdbEventStore(settings);
    opened.push(store);
    return store;
  };
  return { open, cleanup: async () => void (await Promise.all(opened.map((store) => store.close()))) };
}

if (connectionString === undefined || connectionString === '') {
  console.warn(
    'EventStoreDB conformance suite skipped: EVENTSTORE_CONNECTION_STRING is not set (docker compose -f docker/docker-compose.yml up eventstore ...)',
  );
  describe.skip('EventStore conformance: esdb (needs EVENTSTORE_CONNECTION_STRING)', () => {
    it('runs the conformance suite against the EventStoreDB named by EVENTSTORE_CONNECTION_STRING', () => undefined);
  });
} else {
  const url = connectionString;

  describeEventStoreConformance('esdb', async () => {
    const stores = await isolatedStores(url);
    return { store: await stores.open(), reopen: stores.open, cleanup: stores.cleanup };
  }, { globalEventIdUniqueness: false });

  describe('EsdbEventStore on EventStoreDB', () => {
    it('without a namespace, keeps system streams and command records out of a subscription on the server', async () => {
      const stores = await isolatedStores(url, { namespace: undefined });
      try {
        const store = await stores.open();
        const events = store.subscribe()[Symbol.asyncIterator]();
        const streamId = `esdb-int-${randomUUID()}`;
        const appended = await store.append(streamId, [anEvent()], {
          expectedRevision: 'no_stream',
          command: { key: `esdb-int-${randomUUID()}`, requestHash: 'h' },
        });
        // Other runs may write to the same database meanwhile; none of what arrives may be a system event or a record.
        let received: RecordedEvent | undefined;
        while (received?.streamId !== streamId) {
          const step = await events.next();
          if (step.done === true) throw new Error('the subscription ended');
          expect(step.value.streamId.startsWith('$') || step.value.streamId.startsWith('ledger-commands-')).toBe(false);
          received = step.value;
        }
        expect(received.position).toBe(appended.position);
        await events.return?.();
      } finally {
        await stores.cleanup();
      }
    });
  });
}
