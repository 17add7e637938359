import { randomUUID } from 'node:crypto';
import type { AppendResult, EventToAppend, RecordedEvent } from '../event-store.port';
import { eventsToAppend } from '../events-to-append';
import { describeEventStoreConformance } from '../testing/conformance';
import { testOrigin } from '../testing/test-events';
import { EsdbEventStore } from './esdb-event-store';
import { InMemoryEsdbServer, notLeaderError } from './testing/in-memory-esdb-client';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

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

describe('EsdbEventStore through a failover (on the stand-in)', () => {
  const WRITERS = 6;
  const COMMANDS_PER_WRITER = 12;

  function anEvent(writer: number, command: number, index: number): EventToAppend {
    const origin = { ...testOrigin(), commandId: `w${writer}-c${command}` };
    return eventsToAppend([{ type: 'Tested', data: { writer, command, index }, schemaVersion: 1 }], origin, () => randomUUID())[0]!;
  }

  it('loses and doubles nothing acknowledged when the leader changes mid-load', async () => {
    const server = new InMemoryEsdbServer();
    // Two API instances and a projector, each on its own connection.
    const stores = [0, 1, 2].map(() => new EsdbEventStore(server.client(), { retryDelayMs: () => 20 }));
    const [first, second, projector] = stores as [EsdbEventStore, EsdbEventStore, EsdbEventStore];
    try {
      const subscription = projector.subscribe();
      const delivered: RecordedEvent[] = [];
      const total = WRITERS * COMMANDS_PER_WRITER * 2;
      const receiving = (async () => {
        for await (const event of subscription) {
          delivered.push(event);
          if (delivered.length === total) return;
        }
      })();
      const acknowledged: AppendResult[] = [];
      let failoverStarted = false;
      const writer = async (index: number): Promise<void> => {
        const store = index % 2 === 0 ? first : second;
        for (let command = 0; command < COMMANDS_PER_WRITER; command += 1) {
          if (acknowledged.length >= total / 4 && !failoverStarted) {
            failoverStarted = true;
            // The leader is lost just after it wrote an append, before its acknowledgement left.
            server.failNextAppend(notLeaderError(), { afterWriting: true, then: () => void server.failover(400) });
          }
          const events = [anEvent(index, command, 0), anEvent(index, command, 1)];
          const expectedRevision = command === 0 ? 'no_stream' : BigInt(command * 2 - 1);
          const command_ = { key: `writer-${index}:command-${command}`, requestHash: 'h'.repeat(64) };
          acknowledged.push(await store.append(`account-${index}`, events, { expectedRevision, command: command_ }));
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, index) => writer(index)));
      await receiving;
      expect(failoverStarted).toBe(true);

      const log = await collect(projector.readAll());
      const logIds = log.map((event) => event.eventId);
      expect(new Set(logIds).size).toBe(logIds.length);
      expect(log).toHaveLength(total);
      const positions = new Map(log.map((event) => [event.eventId, event.position]));
      for (const result of acknowledged) {
        expect(result.eventIds.map((id) => positions.has(id))).toEqual([true, true]);
        expect(positions.get(result.eventIds[1]!)).toBe(result.position);
      }
      for (let index = 0; index < WRITERS; index += 1) {
        const stream = await collect(first.readStream(`account-${index}`));
        expect(stream.map((event) => event.revision)).toEqual(stream.map((_, revision) => BigInt(revision)));
        stream.forEach((event, revision) => {
          if (revision > 0) expect(event.metadata.prevHash).toBe(stream[revision - 1]!.metadata.hash);
        });
        expect(await second.findCommand(`writer-${index}:command-0`)).toMatchObject({ result: { streamId: `account-${index}` } });
      }
      expect(delivered.map((event) => event.eventId)).toEqual(logIds);
      await subscription.close();
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
