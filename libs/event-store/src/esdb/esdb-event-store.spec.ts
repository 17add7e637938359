import { randomUUID } from 'node:crypto';
import { AccessDeniedError, END, START, UnavailableError, type ReadPosition } from './esdb-client';
import { DuplicateEventIdError, InvalidAppendError } from '../errors';
import type { EventToAppend, RecordedEvent } from '../event-store.port';
import { eventHash, GENESIS_HASH, metadataWithoutChain } from '../hash-chain';
import { commandStreamId, streamLayout } from './esdb-mapping';
import { EsdbEventStore, openEsdbEventStore, type EsdbEventStoreSettings } from './esdb-event-store';
import { InMemoryEsdbServer } from './testing/in-memory-esdb-client';

/**
 * The adapter's own behaviour, on an in-memory double of the server (testing/in-memory-esdb-client.ts). The port's
 * behaviour is the conformance suite's, run against a real server by esdb-event-store.int-spec.ts.
 */

function anEvent(type = 'Tested', data: unknown = { value: randomUUID() }): EventToAppend {
  return {
    eventId: randomUUID(),
    type,
    data,
    metadata: {
      commandId: randomUUID(),
      correlationId: 'correlation-1',
      causationId: 'causation-1',
      actor: { id: 'user-1', role: 'service' },
      recordedAt: '2024-03-01T12:00:00.000Z',
      schemaVersion: 1,
    },
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function take(iterator: AsyncIterator<RecordedEvent>, count: number): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  while (events.length < count) {
    const step = await iterator.next();
    if (step.done === true) throw new Error(`ended after ${events.length} events`);
    events.push(step.value);
  }
  return events;
}

function ids(events: readonly { readonly eventId: string }[]): string[] {
  return events.map((event) => event.eventId);
}

function expectChainIntact(events: readonly RecordedEvent[]): void {
  let prevHash = GENESIS_HASH;
  for (const event of events) {
    expect(event.metadata.prevHash).toBe(prevHash);
    const { streamId, revision, type, data } = event;
    expect(event.metadata.hash).toBe(
      eventHash({ streamId, revision, type, data, metadata: metadataWithoutChain(event.metadata), prevHash }),
    );
    prevHash = event.metadata.hash;
  }
}

describe('EsdbEventStore (on an in-memory server)', () => {
  let server: InMemoryEsdbServer;
  const opened: EsdbEventStore[] = [];

  function open(settings: EsdbEventStoreSettings = {}): EsdbEventStore {
    const store = new EsdbEventStore(server.client(), { retryDelayMs: () => 1, ...settings });
    opened.push(store);
    return store;
  }

  /** One event per append, across streams, with system events in between, as on a live cluster. */
  async function fillLog(store: EsdbEventStore, count: number): Promise<RecordedEvent[]> {
    for (let index = 0; index < count; index += 1) {
      await store.append(`account-${index % 4}`, [anEvent()], { expectedRevision: 'any' });
      if (index % 3 === 0) server.writeSystemEvent();
    }
    return collect(store.readAll());
  }

  function isRecordStart(position: ReadPosition): boolean {
    if (position === START || position === END) return true;
    return position.commit === position.prepare && server.log.some((record) => record.position === position.commit);
  }

  beforeEach(() => {
    server = new InMemoryEsdbServer();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  describe('positions', () => {
    it('reads on from just after a position it handed out, asking the server only for record starts', async () => {
      const store = open();
      const log = await fillLog(store, 12);
      const checkpoint = log[4]!.position;
      expect(ids(await collect(store.readAll({ fromPosition: checkpoint + 1n })))).toEqual(ids(log.slice(5)));
      expect(ids(await collect(store.readAll({ fromPosition: checkpoint + 1n, maxCount: 2 })))).toEqual(
        ids(log.slice(5, 7)),
      );
      expect(server.readPositions.every(isRecordStart)).toBe(true);
    });

    it('finds where to read from for a position another process handed out, from either end of the log', async () => {
      const log = await fillLog(open(), 40);
      const fresh = open();
      expect(ids(await collect(fresh.readAll({ fromPosition: log[36]!.position + 1n })))).toEqual(ids(log.slice(37)));
      expect(ids(await collect(open().readAll({ fromPosition: log[2]!.position + 1n })))).toEqual(ids(log.slice(3)));
      expect(await collect(open().readAll({ fromPosition: log[39]!.position + 1n }))).toEqual([]);
      const subscription = open().subscribe({ afterPosition: log[37]!.position + 1n });
      expect(ids(await take(subscription[Symbol.asyncIterator](), 2))).toEqual(ids(log.slice(38)));
      await subscription.close();
      expect(server.readPositions.every(isRecordStart)).toBe(true);
    });

    it('never looks before the log origin', async () => {
      await fillLog(open({ namespace: 'old-' }), 10);
      const origin = server.log[server.log.length - 1]!.position;
      server.readPositions.splice(0);
      const store = open({ namespace: 'new-', logOrigin: origin });
      expect(await store.headPosition()).toBeUndefined();
      const log = await fillLog(store, 3);
      expect(log).toHaveLength(3);
      expect(server.readPositions.filter((position) => position === START)).toEqual([]);
    });

    it("counts an event at the origin itself, so the origin can be the store's first event", async () => {
      await fillLog(open({ namespace: 'old-' }), 5);
      const first = await open({ namespace: 'new-' }).append('account-1', [anEvent()], {
        expectedRevision: 'no_stream',
      });
      const store = open({ namespace: 'new-', logOrigin: first.position });
      expect(await store.headPosition()).toBe(first.position);
      expect((await collect(store.readAll())).map((event) => event.position)).toEqual([first.position]);
    });
  });

  describe('appends', () => {
    it('sends a write again after its acknowledgement was lost, and the server keeps one copy', async () => {
      const store = open();
      const events = [anEvent(), anEvent()];
      server.failNextAppend(new UnavailableError(), { afterWriting: true });
      const result = await store.append('account-1', events, { expectedRevision: 'no_stream' });
      const stored = await collect(store.readStream('account-1'));
      expect(ids(stored)).toEqual(ids(events));
      expect(result).toEqual({
        streamId: 'account-1',
        nextRevision: 1n,
        position: stored[1]!.position,
        eventIds: ids(events),
      });
    });

    it('gives up on a write that keeps failing, with its failure, having written nothing', async () => {
      const store = open();
      const lost = new UnavailableError();
      for (let attempt = 0; attempt < 3; attempt += 1) server.failNextAppend(lost);
      await expect(store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' })).rejects.toBe(lost);
      expect(await store.streamRevision('account-1')).toBeUndefined();
    });

    it("chains an 'any' append onto the event that is really last when another writer got in first", async () => {
      const store = open();
      const other = open();
      await store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      server.beforeNextAppend(async () => {
        await other.append('account-1', [anEvent('Other')], { expectedRevision: 0n });
      });
      const result = await store.append('account-1', [anEvent('Mine')], { expectedRevision: 'any' });
      const stream = await collect(store.readStream('account-1'));
      expect(stream.map((event) => event.type)).toEqual(['Tested', 'Other', 'Mine']);
      expect(result.nextRevision).toBe(2n);
      expectChainIntact(stream);
    });

    it('recognises an append repeated at the revision its first attempt produced, and refuses a partial repeat', async () => {
      const store = open();
      const events = [anEvent(), anEvent()];
      const first = await store.append('account-1', events, { expectedRevision: 'no_stream' });
      await expect(store.append('account-1', events, { expectedRevision: first.nextRevision })).resolves.toEqual(first);
      await expect(store.append('account-1', [events[1]!, anEvent()], { expectedRevision: 1n })).rejects.toBeInstanceOf(
        DuplicateEventIdError,
      );
      await expect(store.append('account-1', events, { expectedRevision: 'any' })).resolves.toEqual(first);
      expect(await store.streamRevision('account-1')).toBe(1n);
    });

    it('refuses an expected revision past what the server can hold as a revision conflict', async () => {
      const store = open();
      await store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      await expect(store.append('account-1', [anEvent()], { expectedRevision: 2n ** 64n })).rejects.toMatchObject({
        code: 'WRONG_EXPECTED_REVISION',
        actual: 0n,
      });
    });

    it('refuses an append the server finds too large, as an invalid append', async () => {
      server = new InMemoryEsdbServer({ maxAppendSize: 100 });
      const store = open();
      const refused = store.append('account-1', [anEvent('Big', { blob: 'x'.repeat(200) })], {
        expectedRevision: 'any',
      });
      await expect(refused).rejects.toThrow(/maximum append size of 100 bytes/);
      await expect(refused).rejects.toBeInstanceOf(InvalidAppendError);
      expect(await store.streamRevision('account-1')).toBeUndefined();
    });

    it('refuses stream ids that EventStoreDB reserves or that would pass for command records, and reads them as nothing', async () => {
      const store = open();
      await expect(store.append('$settings', [anEvent()], { expectedRevision: 'any' })).rejects.toBeInstanceOf(
        InvalidAppendError,
      );
      await expect(store.append('ledger-commands-x', [anEvent()], { expectedRevision: 'any' })).rejects.toThrow(
        /command records/,
      );
      await store.append('account-1', [anEvent()], {
        expectedRevision: 'no_stream',
        command: { key: 'k-1', requestHash: 'h' },
      });
      const recordStream = commandStreamId(streamLayout({}), 'k-1');
      expect(await collect(store.readStream(recordStream))).toEqual([]);
      expect(await store.streamRevision(recordStream)).toBeUndefined();
    });

    it('hashes the stream id without the namespace, so the same event hashes alike in every namespace', async () => {
      const event = anEvent();
      await open({ namespace: 'a-' }).append('account-1', [event], { expectedRevision: 'no_stream' });
      await open({ namespace: 'b-' }).append('account-1', [event], { expectedRevision: 'no_stream' });
      const [inA] = await collect(open({ namespace: 'a-' }).readStream('account-1'));
      const [inB] = await collect(open({ namespace: 'b-' }).readStream('account-1'));
      expect(inA!.metadata.hash).toBe(inB!.metadata.hash);
      expect(server.storedEvents('a-account-1')).toHaveLength(1);
    });
  });

  describe('command records', () => {
    const command = { key: 'api-key-1:request-1', requestHash: 'a'.repeat(64) };

    it('writes the record when the same append is retried after the record write was lost', async () => {
      const store = open();
      const events = [anEvent(), anEvent()];
      server.failNextAppend(new AccessDeniedError(), { stream: commandStreamId(streamLayout({}), command.key) });
      await expect(
        store.append('account-1', events, { expectedRevision: 'no_stream', command }),
      ).rejects.toBeInstanceOf(AccessDeniedError);
      expect(await store.findCommand(command.key)).toBeUndefined();

      const retried = await store.append('account-1', events, { expectedRevision: 'no_stream', command });
      const stored = await collect(store.readStream('account-1'));
      expect(ids(stored)).toEqual(ids(events));
      expect(retried).toEqual({
        streamId: 'account-1',
        nextRevision: 1n,
        position: stored[1]!.position,
        eventIds: ids(events),
      });
      expect(await store.findCommand(command.key)).toEqual({ ...command, result: retried });
    });

    it('sends a record write again after its acknowledgement was lost', async () => {
      const store = open();
      server.failNextAppend(new UnavailableError(), {
        afterWriting: true,
        stream: commandStreamId(streamLayout({}), command.key),
      });
      const result = await store.append('account-1', [anEvent()], { expectedRevision: 'no_stream', command });
      expect(await store.findCommand(command.key)).toEqual({ ...command, result });
    });
  });

  describe('the log', () => {
    it('shows neither system events, nor other namespaces, nor command records, in reads, the head or subscriptions', async () => {
      const other = open({ namespace: 'b-' });
      const store = open({ namespace: 'a-' });
      const subscription = store.subscribe();
      const mine: EventToAppend[] = [];
      for (let index = 0; index < 3; index += 1) {
        const event = anEvent();
        mine.push(event);
        await store.append(`account-${index}`, [event], {
          expectedRevision: 'no_stream',
          command: { key: `k-${index}`, requestHash: 'h' },
        });
        await other.append(`account-${index}`, [anEvent()], { expectedRevision: 'no_stream' });
        server.writeSystemEvent();
      }
      const log = await collect(store.readAll());
      expect(ids(log)).toEqual(ids(mine));
      expect(log.map((event) => event.streamId)).toEqual(['account-0', 'account-1', 'account-2']);
      expect(await store.headPosition()).toBe(log[2]!.position);
      expect(ids(await take(subscription[Symbol.asyncIterator](), 3))).toEqual(ids(mine));
      await subscription.close();
    });

    it('resumes a subscription after a dropped connection, without loss or duplicate', async () => {
      const store = open();
      await store.append('account-1', [anEvent(), anEvent()], { expectedRevision: 'no_stream' });
      const events = store.subscribe()[Symbol.asyncIterator]();
      await take(events, 2);
      server.dropSubscriptions();
      await store.append('account-1', [anEvent()], { expectedRevision: 1n });
      server.dropSubscriptions();
      await store.append('account-2', [anEvent()], { expectedRevision: 'no_stream' });
      const received = await take(events, 2);
      expect(ids(received)).toEqual(ids((await collect(store.readAll())).slice(2)));
      await events.return?.();
    });

    it('ends a subscription with an event it cannot read, rather than skip it', async () => {
      const store = open();
      const events = store.subscribe()[Symbol.asyncIterator]();
      await server.client().appendToStream('account-1', [
        { id: randomUUID(), contentType: 'application/json', type: 'Forged', data: {}, metadata: undefined },
      ]);
      await expect(events.next()).rejects.toThrow(/hash-chain fields/);
    });
  });

  describe('closing', () => {
    it('lets an append already asked for finish, ends subscriptions, then disposes of the client', async () => {
      const client = server.client();
      const store = new EsdbEventStore(client);
      const pending = next(store.subscribe());
      const appending = store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      await store.close();
      await expect(appending).resolves.toMatchObject({ nextRevision: 0n });
      await expect(pending).resolves.toMatchObject({ done: true });
      expect(client.isDisposed).toBe(true);
      await expect(store.append('account-1', [anEvent()], { expectedRevision: 'any' })).rejects.toThrow(/closed/);
    });
  });
});

function next(subscription: AsyncIterable<RecordedEvent>): Promise<IteratorResult<RecordedEvent>> {
  return subscription[Symbol.asyncIterator]().next();
}

describe('openEsdbEventStore', () => {
  it('refuses a malformed connection string without repeating it', async () => {
    const opening = openEsdbEventStore({ connectionString: 'esdb://admin:s3cret@node-1:notaport' });
    await expect(opening).rejects.toThrow(
      /^invalid EventStoreDB connection string: expected port number at character \d+$/,
    );
    await expect(opening).rejects.not.toThrow(/s3cret/);
  });

  it('fails when the cluster cannot be reached, rather than at the first request', async () => {
    await expect(openEsdbEventStore({ connectionString: 'esdb://127.0.0.1:1?tls=false' })).rejects.toThrow(
      /^cannot read the EventStoreDB log \(\$all\): .*UNAVAILABLE/,
    );
  });
});
