import { randomUUID } from 'node:crypto';
import { AccessDeniedError, END, MaxAppendSizeExceededError, START, UnavailableError, UnknownError, type ReadPosition } from './esdb-client';
import { DuplicateEventIdError, InvalidAppendError } from '../errors';
import type { EventToAppend, RecordedEvent } from '../event-store.port';
import { eventHash, GENESIS_HASH, metadataWithoutChain } from '../hash-chain';
import { commandStreamId, streamLayout } from './esdb-mapping';
import { EsdbEventStore, openEsdbEventStore, type EsdbEventStoreSettings } from './esdb-event-store';
import { EsdbClockSkewError, EsdbStreamDeletedError } from './esdb-errors';
import { InMemoryEsdbServer, notLeaderError } from './testing/in-memory-esdb-client';
import { anEvent } from '../testing/test-events';

/**
 * The adapter's own behaviour, on an in-memory double of the server (testing/in-memory-esdb-client.ts). The port's
 * behaviour is the conformance suite's, run against a real server by esdb-event-store.int-spec.ts.
 */

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

    it('gives up on a write that keeps failing once its retry window has passed, having written nothing', async () => {
      const store = open({ retryWindowMs: 30 });
      const lost = new UnavailableError();
      for (let attempt = 0; attempt < 500; attempt += 1) server.failNextAppend(lost);
      await expect(store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' })).rejects.toBe(lost);
      server.clearFaults();
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

  describe('on a real cluster (defects found by reading the client and the server)', () => {
    const command = { key: 'api-key-1:request-1', requestHash: 'a'.repeat(64) };

    it('reports a server clock ahead by more than the deadline as clock skew, and does not retry it', async () => {
      server = new InMemoryEsdbServer({ clockSkewMs: 20_000 });
      const store = open();
      const refused = store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      await expect(refused).rejects.toThrow(/clock is ahead of this machine's by at least \d+ ms \(clock skew\)/);
      await expect(refused).rejects.toBeInstanceOf(EsdbClockSkewError);
      expect(server.appendRequests).toBe(1);
      expect(server.storedEvents('account-1')).toHaveLength(0);
    });

    it('takes the append deadline as a setting, and reports the clock skew it measures as a health field', async () => {
      server = new InMemoryEsdbServer({ clockSkewMs: 20_000 });
      const store = open({ appendDeadlineMs: 60_000 });
      await store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      const health = store.health();
      expect(health.appendDeadlineMs).toBe(60_000);
      expect(health.clockSkewMs).toBeGreaterThan(19_000);
      expect(health.clockSkewMs).toBeLessThan(21_000);
    });

    it('retries a read that a leader change breaks part-way, and delivers each event once', async () => {
      const store = open();
      const events = [anEvent(), anEvent(), anEvent()];
      await store.append('account-1', events, { expectedRevision: 'no_stream' });
      server.failNextRead(notLeaderError(), { stream: 'account-1', afterRecords: 1 });
      server.failNextRead(new UnavailableError(), { stream: 'account-1' });
      expect(ids(await collect(store.readStream('account-1')))).toEqual(ids(events));
      server.failNextRead(notLeaderError(), { stream: '$all', afterRecords: 2 });
      expect(ids(await collect(store.readAll()))).toEqual(ids(events));
    });

    it('resubscribes after NotLeader part-way through a catch-up, and delivers each event once', async () => {
      const store = open();
      const events = [anEvent(), anEvent(), anEvent(), anEvent()];
      await store.append('account-1', events, { expectedRevision: 'no_stream' });
      server.failNextSubscription(notLeaderError(), { afterRecords: 3 });
      const subscription = store.subscribe();
      expect(ids(await take(subscription[Symbol.asyncIterator](), 4))).toEqual(ids(events));
      await subscription.close();
    });

    it('answers a committed append whose read-back keeps failing as committed, and confirms it later', async () => {
      const store = open({ retryWindowMs: 50 });
      const events = [anEvent(), anEvent()];
      for (let index = 0; index < 200; index += 1) server.failNextRead(new UnavailableError(), { stream: 'account-1' });
      const result = await store.append('account-1', events, { expectedRevision: 'no_stream', command });
      server.clearFaults();
      const stored = await collect(store.readStream('account-1'));
      expect(result).toEqual({ streamId: 'account-1', nextRevision: 1n, position: stored[1]!.position, eventIds: ids(events) });
      expect(await store.findCommand(command.key)).toEqual({ ...command, result });
      expect(store.health().unconfirmedAppends).toBe(1);
      await store.append('account-2', [anEvent()], { expectedRevision: 'no_stream' });
      expect(store.health().unconfirmedAppends).toBe(0);
    });

    it('delivers the event at the log origin to a subscription from the start (the server subscribes after it)', async () => {
      await fillLog(open({ namespace: 'old-' }), 3);
      const first = await open({ namespace: 'new-' }).append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      const store = open({ namespace: 'new-', logOrigin: first.position });
      await store.append('account-1', [anEvent()], { expectedRevision: 0n });
      await store.append('account-1', [anEvent()], { expectedRevision: 1n });
      const subscription = store.subscribe();
      const received = await take(subscription[Symbol.asyncIterator](), 2);
      expect(received.map((event) => event.revision)).toEqual([0n, 1n]);
      await subscription.close();
    });

    it('does not retry an UnknownError, which carries the server\'s deterministic refusals', async () => {
      const store = open();
      const refusal = new UnknownError(undefined, 'Bad request');
      server.failNextAppend(refusal);
      await expect(store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' })).rejects.toBe(refusal);
      expect(server.appendRequests).toBe(1);
      expect(server.storedEvents('account-1')).toHaveLength(0);
    });

    it('resumes from a position another process handed out at a cost independent of the log size', async () => {
      const log = await fillLog(open(), 300);
      const middle = log[150]!.position;
      server.recordsRead = 0;
      const fresh = open();
      expect(ids(await collect(fresh.readAll({ fromPosition: middle + 1n, maxCount: 3 })))).toEqual(ids(log.slice(151, 154)));
      const subscription = open().subscribe({ afterPosition: log[200]!.position });
      expect(ids(await take(subscription[Symbol.asyncIterator](), 2))).toEqual(ids(log.slice(201, 203)));
      await subscription.close();
      // A scan from the nearer end would read about 200 records; two reads of a page's read-ahead at most.
      expect(server.recordsRead).toBeLessThan(50);
      expect(server.readPositions.every(isRecordStart)).toBe(true);
    });

    it('refuses to write into a soft-deleted stream, rather than chain from genesis after the deleted events', async () => {
      const store = open();
      await store.append('account-1', [anEvent(), anEvent()], { expectedRevision: 'no_stream' });
      server.softDelete('account-1');
      for (const expectedRevision of ['no_stream', 'any'] as const) {
        const refused = store.append('account-1', [anEvent()], { expectedRevision });
        await expect(refused).rejects.toBeInstanceOf(EsdbStreamDeletedError);
        await expect(refused).rejects.toThrow(/account-1 was deleted in EventStoreDB \(soft delete\)/);
      }
      expect(server.storedEvents('account-1')).toHaveLength(2);
    });

    it('reports a tombstoned stream clearly on reads and appends', async () => {
      const store = open();
      await store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      server.tombstone('account-1');
      await expect(collect(store.readStream('account-1'))).rejects.toThrow(/account-1 was deleted in EventStoreDB \(tombstone\)/);
      const refused = store.append('account-1', [anEvent()], { expectedRevision: 0n });
      await expect(refused).rejects.toBeInstanceOf(EsdbStreamDeletedError);
      await expect(store.streamRevision('account-1')).rejects.toBeInstanceOf(EsdbStreamDeletedError);
      // The log itself still reads: the tombstone is a system record, not a ledger event.
      expect(await collect(store.readAll())).toHaveLength(1);
    });

    it('retries an append across a leader election that outlasts a second, and writes it once', async () => {
      const store = open({ retryDelayMs: () => 25 });
      const events = [anEvent(), anEvent()];
      server.failNextAppend(new UnavailableError(), {
        afterWriting: true,
        stream: 'account-1',
        then: () => void server.failover(1_000),
      });
      const startedAt = Date.now();
      const result = await store.append('account-1', events, { expectedRevision: 'no_stream', command });
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
      expect(server.storedEvents('account-1').map((record) => record.id)).toEqual(ids(events));
      expect(result.nextRevision).toBe(1n);
      expect(await store.findCommand(command.key)).toEqual({ ...command, result });
    });

    it('resubscribes after the server drops a reader too slow for its buffer, without loss or duplicate', async () => {
      server = new InMemoryEsdbServer({ subscriptionBufferSize: 8 });
      const store = open();
      await store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      const events = store.subscribe()[Symbol.asyncIterator]();
      await take(events, 1);
      for (let revision = 1n; revision <= 60n; revision += 1n) {
        await store.append('account-1', [anEvent()], { expectedRevision: revision - 1n });
      }
      const received = await take(events, 60);
      expect(received.map((event) => event.revision)).toEqual(Array.from({ length: 60 }, (_, index) => BigInt(index + 1)));
      await events.return?.();
    });

    it('shows no system events, links or metadata records in the log', async () => {
      const store = open();
      const appended = await store.append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      server.writeLink('links-1', server.storedEvents('account-1')[0]!);
      server.setStreamMetadata('account-1', { $maxAge: 3600 });
      const subscription = store.subscribe();
      await store.append('account-2', [anEvent()], { expectedRevision: 'no_stream' });
      const log = await collect(store.readAll());
      expect(log.map((event) => event.streamId)).toEqual(['account-1', 'account-2']);
      expect(ids(await take(subscription[Symbol.asyncIterator](), 2))).toEqual(ids(log));
      expect(log[0]!.position).toBe(appended.position);
      await subscription.close();
    });
  });

  describe('the stand-in', () => {
    it('counts an append as the server does: data, metadata and twice the type, of all its events', async () => {
      server = new InMemoryEsdbServer({ maxAppendSize: 100 });
      const client = server.client();
      const event = (type: string) => ({ id: randomUUID(), contentType: 'application/json' as const, type, data: { d: 'x'.repeat(20) }, metadata: { m: 'y'.repeat(20) } });
      await expect(client.appendToStream('s-1', [event('T'.repeat(10))])).resolves.toMatchObject({ success: true });
      await expect(client.appendToStream('s-1', [event('T'.repeat(25))])).rejects.toThrow(MaxAppendSizeExceededError);
      await expect(client.appendToStream('s-1', [event('T'), event('T')])).rejects.toThrow(MaxAppendSizeExceededError);
    });

    it('refuses the nil UUID and an empty type as a bad request, and forgets its any-cache on restart', async () => {
      const client = server.client();
      const event = { id: randomUUID(), contentType: 'application/json' as const, type: 'T', data: {}, metadata: undefined };
      await expect(client.appendToStream('s-1', [{ ...event, id: '00000000-0000-0000-0000-000000000000' }])).rejects.toBeInstanceOf(UnknownError);
      await expect(client.appendToStream('s-1', [{ ...event, type: '' }])).rejects.toBeInstanceOf(UnknownError);
      await client.appendToStream('s-1', [event]);
      await client.appendToStream('s-1', [event]);
      expect(server.storedEvents('s-1')).toHaveLength(1);
      server.restart();
      await client.appendToStream('s-1', [event]);
      expect(server.storedEvents('s-1')).toHaveLength(2);
    });

    it('confirms a subscription, says when it has caught up, and holds back what the client does not read', async () => {
      const client = server.client();
      const event = () => ({ id: randomUUID(), contentType: 'application/json' as const, type: 'T', data: {}, metadata: undefined });
      await client.appendToStream('s-1', [event(), event()]);
      const subscription = client.subscribeToAll();
      const signals: string[] = [];
      subscription.on('confirmation', () => signals.push('confirmation'));
      subscription.on('caughtUp', () => signals.push('caughtUp'));
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(signals).toEqual(['confirmation', 'caughtUp']);
      for (let index = 0; index < 40; index += 1) await client.appendToStream('s-1', [event()]);
      expect(subscription.readableLength).toBeLessThanOrEqual(16);
      const failed = new Promise((resolve) => subscription.once('error', resolve));
      for (let index = 0; index < 64; index += 1) await client.appendToStream('s-1', [event()]);
      await expect(failed).resolves.toThrow(/too slow/);
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
      /^invalid EventStoreDB connection string: host 1 must be host\[:port\], with a port from 1 to 65535$/,
    );
    await expect(opening).rejects.not.toThrow(/s3cret/);
  });

  it('fails when the cluster cannot be reached, rather than at the first request', async () => {
    await expect(openEsdbEventStore({ connectionString: 'esdb://127.0.0.1:1?tls=false' })).rejects.toThrow(
      /^cannot read the EventStoreDB log \(\$all\): .*UNAVAILABLE/,
    );
  });
});
