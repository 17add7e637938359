import { Client, escapeIdentifier } from 'pg';
import { WrongExpectedRevisionError } from '../errors';
import type { AppendResult, EventStore, EventToAppend, RecordedEvent } from '../event-store.port';
import { describeEventStoreConformance } from '../testing/conformance';
import { describeWithPostgres, PostgresTestDatabase } from '../testing/postgres-test-database';
import { anEvent } from '../testing/test-events';
import {
  openPostgresEventStore,
  type PostgresEventStore,
  type PostgresEventStoreOptions,
} from './postgres-event-store';
import { LISTENER_APPLICATION_NAME } from './postgres-notifications';
import { SCHEMA_VERSION } from './postgres-schema';

/** How long a signalled subscription may take to deliver; far below the hour-long poll the tests configure. */
const PROMPT_DELIVERY_MS = 3_000;
const ONE_HOUR_MS = 3_600_000;
/** The ordering test takes 1 to 3 seconds; the margin is for a loaded machine (2 cores shared with the server). */
const ORDERING_TEST_TIMEOUT_MS = 20_000;

const describeWithServer = describeWithPostgres('the PostgreSQL event store suite');

/** The suite's database, with `open` for a store on one of its schemas. */
class TestDatabase extends PostgresTestDatabase<PostgresEventStore> {
  async open(schema: string, options: Omit<PostgresEventStoreOptions, 'connectionString' | 'schema'> = {}): Promise<PostgresEventStore> {
    return this.track(await openPostgresEventStore({ poolSize: 3, ...options, connectionString: this.url, schema }));
  }
}

function someEvents(count: number): EventToAppend[] {
  return Array.from({ length: count }, () => anEvent());
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function ids(events: readonly { readonly eventId: string }[]): string[] {
  return events.map((event) => event.eventId);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the promise's value, or rejects when it takes longer than `ms`. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(20);
  }
}

/**
 * The ordering property a checkpointing reader relies on: what it saw, read after read, is exactly the final log
 * in order. A position that became visible after a larger one had been seen would be missing from `seen`.
 */
function sawExactlyTheLog(seen: readonly string[], finalLog: readonly string[]): boolean {
  return seen.length === finalLog.length && seen.every((id, index) => id === finalLog[index]);
}

describeWithServer('PostgresEventStore', () => {
  const database = new TestDatabase('event_store_test');

  beforeAll(async () => {
    await database.create();
  });

  afterAll(async () => {
    await database.drop();
  });

  describeEventStoreConformance('postgres', async () => {
    const schema = database.freshSchema('conformance');
    const opened: PostgresEventStore[] = [];
    const open = async (): Promise<EventStore> => {
      const store = await openPostgresEventStore({ connectionString: database.url, schema, poolSize: 3 });
      opened.push(store);
      return store;
    };
    const store = await open();
    return {
      store,
      reopen: open,
      cleanup: async () => {
        await Promise.all(opened.map((each) => each.close()));
        await database.dropSchema(schema);
      },
    };
  });

  describe('adapter', () => {
    let schema: string;

    beforeEach(() => {
      schema = database.freshSchema('adapter');
    });

    afterEach(async () => {
      await database.closeStores();
      await database.dropSchema(schema);
    });

    describe('global order', () => {
      it('lets a checkpointing reader see exactly the final log while 8 stores append concurrently', async () => {
        const writerCount = 8;
        const workersPerWriter = 3;
        const appendsPerWorker = 20;
        const writers = await Promise.all(Array.from({ length: writerCount }, () => database.open(schema, { poolSize: 2 })));
        const reader = await database.open(schema);
        const eventsPerAppend = (index: number): number => 1 + (index % 3);
        const eventCount = writerCount * workersPerWriter * [...Array(appendsPerWorker).keys()].map(eventsPerAppend).reduce((a, b) => a + b);

        // A live subscription, woken by the other stores' NOTIFYs, delivering while they write.
        const subscription = reader.subscribe();
        const delivering = (async () => {
          const delivered: RecordedEvent[] = [];
          for await (const event of subscription) {
            delivered.push(event);
            if (delivered.length === eventCount) break;
          }
          return delivered;
        })();

        // A checkpointing reader: each read continues after the last position it saw.
        let writing = true;
        const seen: RecordedEvent[] = [];
        const reading = (async () => {
          let reads = 0;
          for (let finalRead = false; !finalRead; reads += 1) {
            // A read that starts after the last append returned must reach the end of the log.
            finalRead = !writing;
            const after = seen.length === 0 ? 0n : seen[seen.length - 1]!.position;
            seen.push(...(await collect(reader.readAll({ fromPosition: after + 1n }))));
          }
          return reads;
        })();

        let appended = 0;
        const work = writers.flatMap((writer, writerIndex) =>
          Array.from({ length: workersPerWriter }, async (_, worker) => {
            for (let index = 0; index < appendsPerWorker; index += 1) {
              const streamId = `order-${(writerIndex * 7 + worker * 3 + index) % 11}`;
              await writer.append(streamId, someEvents(eventsPerAppend(index)), { expectedRevision: 'any' });
              appended += 1;
            }
          }),
        );
        await Promise.all(work);
        writing = false;
        const reads = await reading;

        const finalLog = await collect(reader.readAll());
        expect(appended).toBe(480);
        expect(finalLog).toHaveLength(eventCount);
        // The reader read many times while the writers ran, so it did see the log grow under it.
        expect(reads).toBeGreaterThan(5);
        expect(sawExactlyTheLog(ids(seen), ids(finalLog))).toBe(true);
        // Positions are gapless: 1, 2, 3, ... (no rolled-back sequence values).
        expect(finalLog.every((event, index) => event.position === BigInt(index + 1))).toBe(true);
        expect(ids(await delivering)).toEqual(ids(finalLog));
      }, ORDERING_TEST_TIMEOUT_MS);

      it('the check above does catch the sequence gap problem of a plain sequence', async () => {
        // Shows that sawExactlyTheLog can fail: with a sequence and no ordering, 2 is visible before 1.
        const table = `${escapeIdentifier(schema)}.naive_log`;
        await database.query(`CREATE SCHEMA ${escapeIdentifier(schema)}`);
        await database.query(`CREATE TABLE ${table} (position bigserial PRIMARY KEY, event_id text NOT NULL)`);
        const [slow, fast] = [new Client({ connectionString: database.url }), new Client({ connectionString: database.url })];
        await Promise.all([slow.connect(), fast.connect()]);
        try {
          // int8 comes back as text from pg, which keeps the comparison exact.
          const readAfter = async (position: string): Promise<{ position: string; event_id: string }[]> =>
            database.query(`SELECT position, event_id FROM ${table} WHERE position > $1 ORDER BY position`, [position]);
          await slow.query('BEGIN');
          await slow.query(`INSERT INTO ${table} (event_id) VALUES ('first')`);
          await fast.query(`INSERT INTO ${table} (event_id) VALUES ('second')`);
          const seen = await readAfter('0');
          await slow.query('COMMIT');
          seen.push(...(await readAfter(seen[seen.length - 1]!.position)));
          const finalLog = await readAfter('0');
          expect(finalLog.map((row) => row.event_id)).toEqual(['first', 'second']);
          expect(sawExactlyTheLog(seen.map((row) => row.event_id), finalLog.map((row) => row.event_id))).toBe(false);
        } finally {
          await Promise.all([slow.end(), fast.end()]);
        }
      });
    });

    describe('two store instances on one schema', () => {
      it('let exactly one of two racing appends with the same expected revision win, round after round', async () => {
        const [left, right] = await Promise.all([database.open(schema), database.open(schema)]);
        await left.append('race-1', [anEvent()], { expectedRevision: 'no_stream' });
        for (let revision = 0n; revision < 10n; revision += 1n) {
          const outcomes = await Promise.allSettled([
            left.append('race-1', [anEvent()], { expectedRevision: revision }),
            right.append('race-1', [anEvent()], { expectedRevision: revision }),
          ]);
          const rejected = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
          expect(rejected).toHaveLength(1);
          expect(rejected[0]!.reason).toBeInstanceOf(WrongExpectedRevisionError);
          expect(rejected[0]!.reason).toMatchObject({ expected: revision, actual: revision + 1n });
        }
        const stream = await collect(right.readStream('race-1'));
        expect(stream.map((event) => event.revision)).toEqual([...Array(11).keys()].map(BigInt));
        const noStream = await Promise.allSettled([
          left.append('race-2', [anEvent()], { expectedRevision: 'no_stream' }),
          right.append('race-2', [anEvent()], { expectedRevision: 'no_stream' }),
        ]);
        expect(noStream.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      });

      it("wake each other's subscriptions by NOTIFY, without waiting for the poll", async () => {
        // With an hour between polls, only LISTEN/NOTIFY can deliver the events in time.
        const [subscriber, writer] = await Promise.all([
          database.open(schema, { subscriptionPollIntervalMs: ONE_HOUR_MS }),
          database.open(schema),
        ]);
        const events = subscriber.subscribe()[Symbol.asyncIterator]();
        for (let round = 0; round < 3; round += 1) {
          const next = events.next();
          // Let the subscription read the (unchanged) log and go to sleep before the other store appends.
          await delay(100);
          const appended = anEvent();
          await writer.append('s-1', [appended], { expectedRevision: 'any' });
          await expect(within(PROMPT_DELIVERY_MS, next, 'delivery')).resolves.toMatchObject({
            done: false,
            value: { eventId: appended.eventId },
          });
        }
      });

      it('does not wake a subscription on another schema', async () => {
        const other = database.freshSchema('other');
        try {
          const subscriber = await database.open(schema, { subscriptionPollIntervalMs: ONE_HOUR_MS });
          const writer = await database.open(other);
          const next = subscriber.subscribe()[Symbol.asyncIterator]().next();
          await writer.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
          const outcome = await Promise.race([next.then(() => 'delivered'), delay(500).then(() => 'nothing')]);
          expect(outcome).toBe('nothing');
          expect(await subscriber.headPosition()).toBeUndefined();
        } finally {
          await database.closeStores();
          await database.dropSchema(other);
        }
      });
    });

    describe('the LISTEN connection', () => {
      async function terminateListeners(): Promise<number> {
        const rows = await database.query<{ terminated: boolean }>(
          `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
           WHERE datname = $1 AND application_name = $2`,
          [database.name, LISTENER_APPLICATION_NAME],
        );
        return rows.filter((row) => row.terminated).length;
      }

      it('reconnects after being dropped, delivers what was appended meanwhile, and is woken again', async () => {
        const subscriber = await database.open(schema, { subscriptionPollIntervalMs: ONE_HOUR_MS });
        const writer = await database.open(schema);
        expect(subscriber.listenerConnectCount).toBe(1);
        const events = subscriber.subscribe()[Symbol.asyncIterator]();
        const first = events.next();
        await delay(100);

        expect(await terminateListeners()).toBeGreaterThanOrEqual(1);
        // Appended while the subscriber may not be listening: the reconnection's wake-up covers the gap.
        const duringOutage = anEvent();
        await writer.append('s-1', [duringOutage], { expectedRevision: 'no_stream' });
        await expect(within(PROMPT_DELIVERY_MS, first, 'delivery after the outage')).resolves.toMatchObject({
          value: { eventId: duringOutage.eventId },
        });
        await waitUntil(() => subscriber.listenerConnectCount >= 2, 'the listener reconnected');

        const second = events.next();
        await delay(100);
        const afterReconnect = anEvent();
        await writer.append('s-1', [afterReconnect], { expectedRevision: 0n });
        await expect(within(PROMPT_DELIVERY_MS, second, 'delivery after reconnecting')).resolves.toMatchObject({
          value: { eventId: afterReconnect.eventId },
        });
      });
    });

    describe('migrations', () => {
      async function migrationRows(): Promise<number[]> {
        const rows = await database.query<{ version: number }>(
          `SELECT version FROM ${escapeIdentifier(schema)}.schema_migrations ORDER BY version`,
        );
        return rows.map((row) => row.version);
      }

      it('are applied once, and opening an existing schema again keeps its events', async () => {
        const first = await database.open(schema);
        await first.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
        await first.close();
        const second = await database.open(schema);
        expect(await second.streamRevision('s-1')).toBe(0n);
        expect(await migrationRows()).toEqual([...Array(SCHEMA_VERSION).keys()].map((index) => index + 1));
      });

      it('are safe when four stores open a new schema at once', async () => {
        const stores = await Promise.all(Array.from({ length: 4 }, () => database.open(schema)));
        expect(await migrationRows()).toEqual([...Array(SCHEMA_VERSION).keys()].map((index) => index + 1));
        await stores[0]!.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
        expect(await stores[3]!.streamRevision('s-1')).toBe(0n);
      });

      it('refuse a schema from a newer version of the code', async () => {
        await (await database.open(schema)).close();
        await database.query(`INSERT INTO ${escapeIdentifier(schema)}.schema_migrations (version) VALUES (99)`);
        await expect(database.open(schema)).rejects.toThrow(/version 99/);
      });

      it('refuse a schema name that is not a plain identifier', async () => {
        await expect(database.open('bad"; DROP TABLE x; --')).rejects.toThrow(/plain identifier/);
      });
    });

    describe('group commit', () => {
      it('commits 100 concurrent appends of one store in far fewer than 100 transactions', async () => {
        const store = await database.open(schema);
        const before = store.commitCount;
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, index) => store.append(`s-${index}`, [anEvent()], { expectedRevision: 'no_stream' })),
        );
        expect(store.commitCount - before).toBeLessThan(10);
        expect(new Set(results.map((result) => result.position)).size).toBe(100);
        expect(await collect(store.readAll())).toHaveLength(100);
      });
    });

    describe('faults inside a write transaction', () => {
      /** Makes the server fail (or drop the connection during) the insert of events of a given type. */
      async function injectFault(type: string, action: string): Promise<void> {
        const quoted = escapeIdentifier(schema);
        await database.query(
          `CREATE FUNCTION ${quoted}.inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.type = '${type}' THEN ${action}; END IF; RETURN NEW; END $$`,
        );
        await database.query(
          `CREATE TRIGGER inject_fault BEFORE INSERT ON ${quoted}.events FOR EACH ROW EXECUTE FUNCTION ${quoted}.inject_fault()`,
        );
      }

      it('undoes the events an append already wrote when a later insert of it fails, and keeps the others', async () => {
        const store = await database.open(schema);
        await injectFault('Explode', `RAISE EXCEPTION 'injected fault'`);
        const command = { key: 'k-1', requestHash: 'h-1' };
        const before = store.commitCount;
        const outcomes = await Promise.allSettled([
          store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' }),
          store.append('s-2', [anEvent(), anEvent(), anEvent('Explode')], { expectedRevision: 'no_stream', command }),
          store.append('s-3', [anEvent()], { expectedRevision: 'no_stream' }),
        ]);
        expect(store.commitCount - before).toBe(1);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'injected fault' });
        const log = await collect(store.readAll());
        expect(log.map((event) => event.streamId)).toEqual(['s-1', 's-3']);
        expect(log.map((event) => event.position)).toEqual([1n, 2n]);
        expect(await store.streamRevision('s-2')).toBeUndefined();
        expect(await store.findCommand('k-1')).toBeUndefined();
      });

      it('rejects every append of the batch with the error when the connection breaks, writes nothing, and recovers', async () => {
        const store = await database.open(schema);
        await store.append('s-0', [anEvent()], { expectedRevision: 'no_stream' });
        await injectFault('Disconnect', 'PERFORM pg_terminate_backend(pg_backend_pid())');
        const outcomes = await Promise.allSettled([
          store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' }),
          store.append('s-2', [anEvent(), anEvent('Disconnect')], { expectedRevision: 'no_stream' }),
          store.append('s-3', [anEvent()], { expectedRevision: 'no_stream' }),
        ]);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
        const reasons = outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason as Error);
        expect(reasons[0]!.message).toMatch(/terminat/i);
        expect(new Set(reasons).size).toBe(1);
        expect((await collect(store.readAll())).map((event) => event.streamId)).toEqual(['s-0']);
        const retried: AppendResult = await store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
        expect(retried).toMatchObject({ nextRevision: 0n, position: 2n });
      });
    });
  });
});
