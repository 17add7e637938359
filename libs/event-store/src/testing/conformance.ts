import { MAX_APPEND_BYTES, MAX_EVENT_BYTES, MAX_EVENTS_PER_APPEND, MAX_STREAM_ID_CHARS } from '../append-validation';
import {
  CommandAlreadyRecordedError,
  DuplicateEventIdError,
  InvalidAppendError,
  WrongExpectedRevisionError,
} from '../errors';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  RecordedEvent,
  Subscription,
} from '../event-store.port';
import { eventHash, GENESIS_HASH, metadataWithoutChain } from '../hash-chain';
import { anEvent } from './test-events';

export interface ConformanceContext {
  readonly store: EventStore;
  /** Closes nothing itself: the test closes the store first, then reopens the same log. */
  readonly reopen?: () => Promise<EventStore>;
  /** Closes every store the context opened and removes what it created. */
  readonly cleanup: () => Promise<void>;
}

export type ConformanceFactory = () => Promise<ConformanceContext>;

/** What an adapter's backend can guarantee; each `false` skips the tests that need it, with the reason printed. */
export interface ConformanceCapabilities {
  /**
   * An event id is unique across the whole log (SQLite, PostgreSQL). EventStoreDB only deduplicates an exact retry
   * (same ids at the same expected revision), so the same id elsewhere is stored again.
   */
  readonly globalEventIdUniqueness?: boolean;
}

// ---- helpers --------------------------------------------------------------------------------------------------

function someEvents(count: number, type = 'Tested'): EventToAppend[] {
  return Array.from({ length: count }, (_, index) => anEvent(type, { index }));
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Reads exactly `count` events from a running iterator, leaving it open. */
async function nextEvents(iterator: AsyncIterator<RecordedEvent>, count: number): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  while (events.length < count) {
    const result = await iterator.next();
    if (result.done === true) throw new Error(`the subscription ended after ${events.length} of ${count} events`);
    events.push(result.value);
  }
  return events;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

function ids(events: readonly { readonly eventId: string }[]): string[] {
  return events.map((event) => event.eventId);
}

function isStrictlyIncreasing(values: readonly bigint[]): boolean {
  return values.every((value, index) => index === 0 || value > values[index - 1]!);
}

// ---- the suite ------------------------------------------------------------------------------------------------

/**
 * The behaviour every EventStore adapter must have, so that the ledger behaves the same whichever store holds its
 * events. Each test gets a fresh, empty store from
 * `factory`. Tests assert outcomes only, never timings, so a slow adapter passes as long as it is correct.
 */
export function describeEventStoreConformance(
  adapterName: string,
  factory: ConformanceFactory,
  capabilities: ConformanceCapabilities = {},
): void {
  const uniqueIdsOnly = capabilities.globalEventIdUniqueness === false ? it.skip : it;
  if (capabilities.globalEventIdUniqueness === false) {
    console.warn(`${adapterName}: the tests of log-wide event-id uniqueness are skipped: the backend deduplicates exact retries only`);
  }
  describe(`EventStore conformance: ${adapterName}`, () => {
    let context: ConformanceContext;
    let store: EventStore;

    beforeEach(async () => {
      context = await factory();
      store = context.store;
    });

    afterEach(async () => {
      await context?.cleanup();
    });

    /** Asserts that the log is exactly as it was: nothing written by a refused append. */
    async function expectLogUnchanged(before: readonly RecordedEvent[]): Promise<void> {
      expect(ids(await collect(store.readAll()))).toEqual(ids(before));
    }

    describe('append and read', () => {
      it('round-trips type, data and metadata exactly, and adds the hash-chain fields', async () => {
        const data = { amount: '12.50', asset: 'ETH', nested: { list: [1, 'two', null, true], empty: {} }, text: 'naïve ✓ 账户' };
        const first = anEvent('WithdrawalRequested', data);
        const second = anEvent('WithdrawalApproved', { by: 'admin-7' });
        const result = await store.append('account-1', [first, second], { expectedRevision: 'no_stream' });

        const read = await collect(store.readStream('account-1'));
        expect(read).toHaveLength(2);
        expect(read[0]).toEqual({
          streamId: 'account-1',
          revision: 0n,
          position: expect.any(BigInt),
          eventId: first.eventId,
          type: 'WithdrawalRequested',
          data,
          metadata: { ...first.metadata, prevHash: GENESIS_HASH, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
        });
        expect(read[1]).toMatchObject({ revision: 1n, eventId: second.eventId, data: { by: 'admin-7' } });
        expect(read[1]!.metadata).toEqual({ ...second.metadata, prevHash: read[0]!.metadata.hash, hash: expect.any(String) });
        expect(result).toEqual({ streamId: 'account-1', nextRevision: 1n, position: read[1]!.position, eventIds: ids([first, second]) });
      });

      it('numbers revisions from 0 and continues them across appends', async () => {
        await store.append('account-1', someEvents(2), { expectedRevision: 'no_stream' });
        const result = await store.append('account-1', someEvents(3), { expectedRevision: 1n });
        expect(result.nextRevision).toBe(4n);
        expect((await collect(store.readStream('account-1'))).map((event) => event.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
        expect(await store.streamRevision('account-1')).toBe(4n);
      });

      it('orders the global log by commit, across streams, with strictly increasing positions', async () => {
        const appended: AppendResult[] = [];
        for (const streamId of ['a-1', 'b-1', 'a-1', 'c-1']) {
          appended.push(await store.append(streamId, [anEvent()], { expectedRevision: 'any' }));
        }
        const log = await collect(store.readAll());
        expect(log.map((event) => event.streamId)).toEqual(['a-1', 'b-1', 'a-1', 'c-1']);
        expect(log.map((event) => event.position)).toEqual(appended.map((result) => result.position));
        expect(isStrictlyIncreasing(log.map((event) => event.position))).toBe(true);
        expect(await store.headPosition()).toBe(log[3]!.position);
      });

      it('reports an empty log and a missing stream as undefined, and reads them as nothing', async () => {
        expect(await store.headPosition()).toBeUndefined();
        expect(await store.streamRevision('missing-1')).toBeUndefined();
        expect(await collect(store.readStream('missing-1'))).toEqual([]);
        expect(await collect(store.readAll())).toEqual([]);
      });
    });

    describe('expected revision', () => {
      async function refusal(streamId: string, expectedRevision: ExpectedRevision): Promise<WrongExpectedRevisionError> {
        const before = await collect(store.readAll());
        const error = await rejectionOf(store.append(streamId, someEvents(3), { expectedRevision }));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        await expectLogUnchanged(before);
        return error as WrongExpectedRevisionError;
      }

      it("'no_stream' appends to a new stream and is refused on an existing one", async () => {
        await store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
        const error = await refusal('s-1', 'no_stream');
        expect(error).toMatchObject({ streamId: 's-1', expected: 'no_stream', actual: 0n, code: 'WRONG_EXPECTED_REVISION' });
      });

      it("'stream_exists' is refused on a new stream and appends to an existing one", async () => {
        const error = await refusal('s-1', 'stream_exists');
        expect(error).toMatchObject({ streamId: 's-1', expected: 'stream_exists', actual: undefined });
        expect(await store.streamRevision('s-1')).toBeUndefined();
        await store.append('s-1', [anEvent()], { expectedRevision: 'any' });
        await expect(store.append('s-1', [anEvent()], { expectedRevision: 'stream_exists' })).resolves.toMatchObject({ nextRevision: 1n });
      });

      it('an exact revision appends when it is the current one and is refused when behind or ahead', async () => {
        await store.append('s-1', someEvents(2), { expectedRevision: 'no_stream' });
        expect(await refusal('s-1', 0n)).toMatchObject({ expected: 0n, actual: 1n });
        expect(await refusal('s-1', 5n)).toMatchObject({ expected: 5n, actual: 1n });
        expect(await refusal('new-1', 0n)).toMatchObject({ expected: 0n, actual: undefined });
        await expect(store.append('s-1', [anEvent()], { expectedRevision: 1n })).resolves.toMatchObject({ nextRevision: 2n });
      });

      it("'any' appends whatever the state of the stream", async () => {
        await expect(store.append('s-1', [anEvent()], { expectedRevision: 'any' })).resolves.toMatchObject({ nextRevision: 0n });
        await expect(store.append('s-1', [anEvent()], { expectedRevision: 'any' })).resolves.toMatchObject({ nextRevision: 1n });
      });

      it('lets exactly one of 20 racing appends with the same expected revision win', async () => {
        await store.append('race-1', [anEvent()], { expectedRevision: 'no_stream' });
        const contenders = Array.from({ length: 20 }, () => [anEvent()]);
        const outcomes = await Promise.allSettled(
          contenders.map((events) => store.append('race-1', events, { expectedRevision: 0n })),
        );
        const winners = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [contenders[index]!] : []));
        const losers = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(19);
        for (const loser of losers) {
          expect(loser).toBeInstanceOf(WrongExpectedRevisionError);
          expect(loser).toMatchObject({ actual: 1n });
        }
        expect(ids(await collect(store.readStream('race-1', { fromRevision: 1n })))).toEqual(ids(winners[0]!));
      });

      it("lets exactly one of 20 racing 'no_stream' appends create the stream", async () => {
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, () => store.append('race-2', someEvents(2), { expectedRevision: 'no_stream' })),
        );
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        expect(await collect(store.readStream('race-2'))).toHaveLength(2);
      });
    });

    describe('atomicity', () => {
      uniqueIdsOnly('writes nothing of a multi-event append whose last event collides with a stored id', async () => {
        const stored = anEvent();
        await store.append('other-1', [stored], { expectedRevision: 'no_stream' });
        const before = await collect(store.readAll());
        const batch = [anEvent(), anEvent(), { ...anEvent(), eventId: stored.eventId }];
        await expect(store.append('s-1', batch, { expectedRevision: 'any' })).rejects.toBeInstanceOf(DuplicateEventIdError);
        await expectLogUnchanged(before);
        expect(await store.streamRevision('s-1')).toBeUndefined();
      });
    });

    describe('idempotency by event id', () => {
      it('returns the original result for a retry of the same events, and writes nothing', async () => {
        const events = someEvents(2);
        const first = await store.append('s-1', events, { expectedRevision: 'no_stream' });
        const before = await collect(store.readAll());
        await expect(store.append('s-1', events, { expectedRevision: 'no_stream' })).resolves.toEqual(first);
        await expectLogUnchanged(before);
      });

      it('still recognises the retry after the stream has moved on', async () => {
        const events = someEvents(3);
        const first = await store.append('s-1', events, { expectedRevision: 'no_stream' });
        await store.append('s-1', someEvents(2), { expectedRevision: 2n });
        await expect(store.append('s-1', events, { expectedRevision: 'no_stream' })).resolves.toEqual(first);
        expect(await store.streamRevision('s-1')).toBe(4n);
      });

      uniqueIdsOnly('refuses a batch that repeats only some stored ids, or the same ids elsewhere or reordered', async () => {
        const events = someEvents(2);
        await store.append('s-1', events, { expectedRevision: 'no_stream' });
        const before = await collect(store.readAll());
        const attempts = [
          store.append('s-1', [events[0]!, anEvent()], { expectedRevision: 'any' }),
          store.append('s-2', events, { expectedRevision: 'any' }),
          store.append('s-1', [events[1]!, events[0]!], { expectedRevision: 'any' }),
        ];
        for (const attempt of attempts) {
          const error = await rejectionOf(attempt);
          expect(error).toBeInstanceOf(DuplicateEventIdError);
          expect(error).toMatchObject({ code: 'DUPLICATE_EVENT_ID' });
        }
        await expectLogUnchanged(before);
      });
    });

    describe('command records', () => {
      const command = { key: 'api-key-1:request-1', requestHash: 'a'.repeat(64) };

      it('stores the record with the append and finds it by key', async () => {
        const result = await store.append('s-1', someEvents(2), { expectedRevision: 'no_stream', command });
        expect(await store.findCommand(command.key)).toEqual({ ...command, result });
        expect(await store.findCommand('api-key-1:unknown')).toBeUndefined();
      });

      it('refuses a second append under the same key, carrying the first result, and writes nothing', async () => {
        const result = await store.append('s-1', [anEvent()], { expectedRevision: 'no_stream', command });
        const before = await collect(store.readAll());
        const error = await rejectionOf(
          store.append('s-2', [anEvent()], { expectedRevision: 'any', command: { ...command, requestHash: 'b'.repeat(64) } }),
        );
        expect(error).toBeInstanceOf(CommandAlreadyRecordedError);
        expect((error as CommandAlreadyRecordedError).record).toEqual({ ...command, result });
        await expectLogUnchanged(before);
      });

      it('records nothing when the append is refused', async () => {
        await store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
        await expect(store.append('s-1', [anEvent()], { expectedRevision: 'no_stream', command })).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        expect(await store.findCommand(command.key)).toBeUndefined();
      });
    });

    describe('hash chain', () => {
      it('links each event to its predecessor in the stream, and every hash recomputes from what was read', async () => {
        await store.append('s-1', someEvents(3), { expectedRevision: 'no_stream' });
        await store.append('s-2', someEvents(1), { expectedRevision: 'no_stream' });
        await store.append('s-1', [anEvent('Other', { date: new Date('2024-01-01T00:00:00Z'), order: { b: 1, a: 2 } })], {
          expectedRevision: 2n,
        });
        for (const streamId of ['s-1', 's-2']) {
          let prevHash = GENESIS_HASH;
          for (const event of await collect(store.readStream(streamId))) {
            expect(event.metadata.prevHash).toBe(prevHash);
            const { streamId: stream, revision, type, data } = event;
            const recomputed = eventHash({ streamId: stream, revision, type, data, metadata: metadataWithoutChain(event.metadata), prevHash });
            expect(event.metadata.hash).toBe(recomputed);
            prevHash = event.metadata.hash;
          }
        }
      });
    });

    describe('readStream', () => {
      let written: EventToAppend[];

      beforeEach(async () => {
        written = someEvents(10);
        await store.append('s-1', written.slice(0, 3), { expectedRevision: 'no_stream' });
        await store.append('s-1', written.slice(3), { expectedRevision: 2n });
        await store.append('s-2', someEvents(2), { expectedRevision: 'no_stream' });
      });

      it('reads forwards from the start by default, and only that stream', async () => {
        expect(ids(await collect(store.readStream('s-1')))).toEqual(ids(written));
      });

      it('reads forwards from a revision (inclusive) and up to a count', async () => {
        expect(ids(await collect(store.readStream('s-1', { fromRevision: 3n })))).toEqual(ids(written.slice(3)));
        expect(ids(await collect(store.readStream('s-1', { maxCount: 4 })))).toEqual(ids(written.slice(0, 4)));
        expect(ids(await collect(store.readStream('s-1', { fromRevision: 8n, maxCount: 5 })))).toEqual(ids(written.slice(8)));
        expect(await collect(store.readStream('s-1', { fromRevision: 10n }))).toEqual([]);
        expect(await collect(store.readStream('s-1', { maxCount: 0 }))).toEqual([]);
      });

      it('reads backwards from the end by default, or from a revision (inclusive)', async () => {
        expect(ids(await collect(store.readStream('s-1', { direction: 'backwards' })))).toEqual(ids(written).reverse());
        const fromFive = await collect(store.readStream('s-1', { direction: 'backwards', fromRevision: 5n, maxCount: 3 }));
        expect(fromFive.map((event) => event.revision)).toEqual([5n, 4n, 3n]);
        const beyond = await collect(store.readStream('s-1', { direction: 'backwards', fromRevision: 99n, maxCount: 2 }));
        expect(beyond.map((event) => event.revision)).toEqual([9n, 8n]);
      });
    });

    describe('a long stream', () => {
      const total = 10_000;
      let written: EventToAppend[];

      beforeEach(async () => {
        written = someEvents(total);
        for (let start = 0; start < total; start += MAX_EVENTS_PER_APPEND) {
          const expectedRevision = start === 0 ? 'no_stream' : BigInt(start - 1);
          await store.append('long-1', written.slice(start, start + MAX_EVENTS_PER_APPEND), { expectedRevision });
        }
        await store.append('rare-1', [anEvent('Rare')], { expectedRevision: 'no_stream' });
      });

      it('reads all of it, forwards and backwards, in order', async () => {
        const forwards = await collect(store.readStream('long-1'));
        expect(ids(forwards)).toEqual(ids(written));
        expect(forwards.every((event, index) => event.revision === BigInt(index))).toBe(true);
        expect(ids(await collect(store.readStream('long-1', { direction: 'backwards' })))).toEqual(ids(written).reverse());
      });

      it('reads it in pages that join up exactly', async () => {
        const pageSize = 1_234;
        const pages: RecordedEvent[] = [];
        for (let from = 0n; ; from += BigInt(pageSize)) {
          const page = await collect(store.readStream('long-1', { fromRevision: from, maxCount: pageSize }));
          pages.push(...page);
          if (page.length < pageSize) break;
        }
        expect(ids(pages)).toEqual(ids(written));
      });

      it('finds a rare event past the long stream in the global log, by type and by stream prefix', async () => {
        expect((await collect(store.readAll({ filter: { eventTypes: ['Rare'] } }))).map((event) => event.streamId)).toEqual(['rare-1']);
        expect(await collect(store.readAll({ filter: { streamPrefixes: ['rare-'] } }))).toHaveLength(1);
        expect(await collect(store.readAll())).toHaveLength(total + 1);
      });
    });

    describe('readAll', () => {
      let log: RecordedEvent[];

      beforeEach(async () => {
        await store.append('account-1', [anEvent('A'), anEvent('B')], { expectedRevision: 'any' });
        await store.append('incident-1', [anEvent('A'), anEvent('C')], { expectedRevision: 'any' });
        await store.append('account-2', [anEvent('C'), anEvent('B')], { expectedRevision: 'any' });
        log = await collect(store.readAll());
      });

      it('reads from a position (inclusive) and up to a count', async () => {
        expect(log).toHaveLength(6);
        expect(ids(await collect(store.readAll({ fromPosition: log[3]!.position })))).toEqual(ids(log.slice(3)));
        expect(ids(await collect(store.readAll({ maxCount: 2 })))).toEqual(ids(log.slice(0, 2)));
        expect(ids(await collect(store.readAll({ fromPosition: log[1]!.position, maxCount: 3 })))).toEqual(ids(log.slice(1, 4)));
        expect(await collect(store.readAll({ fromPosition: log[5]!.position + 1n }))).toEqual([]);
      });

      it('filters by event type, by stream prefix, and by both', async () => {
        const types = await collect(store.readAll({ filter: { eventTypes: ['A', 'C'] } }));
        expect(types.map((event) => event.type)).toEqual(['A', 'A', 'C', 'C']);
        const accounts = await collect(store.readAll({ filter: { streamPrefixes: ['account-'] } }));
        expect(accounts.map((event) => event.streamId)).toEqual(['account-1', 'account-1', 'account-2', 'account-2']);
        const both = await collect(store.readAll({ filter: { eventTypes: ['B'], streamPrefixes: ['account-', 'nothing-'] } }));
        expect(ids(both)).toEqual(ids([log[1]!, log[5]!]));
        const counted = await collect(store.readAll({ filter: { eventTypes: ['C'] }, maxCount: 1 }));
        expect(ids(counted)).toEqual(ids([log[3]!]));
      });

      it('keeps nothing for an empty filter list', async () => {
        expect(await collect(store.readAll({ filter: { eventTypes: [] } }))).toEqual([]);
        expect(await collect(store.readAll({ filter: { streamPrefixes: [] } }))).toEqual([]);
      });
    });

    describe('subscribe', () => {
      const open: Subscription[] = [];
      function subscribe(...args: Parameters<EventStore['subscribe']>): Subscription {
        const subscription = store.subscribe(...args);
        open.push(subscription);
        return subscription;
      }

      afterEach(async () => {
        await Promise.all(open.splice(0).map((subscription) => subscription.close()));
      });

      it('catches up, then goes live, with no loss and no duplicate across the hand-over', async () => {
        for (let batch = 0; batch < 5; batch += 1) await store.append(`catch-up-${batch}`, someEvents(100), { expectedRevision: 'any' });
        const events = subscribe()[Symbol.asyncIterator]();
        const receiving = nextEvents(events, 1_000);
        for (let batch = 0; batch < 50; batch += 1) await store.append(`live-${batch % 7}`, someEvents(10), { expectedRevision: 'any' });
        const received = await receiving;

        expect(ids(received)).toEqual(ids(await collect(store.readAll())));
        expect(isStrictlyIncreasing(received.map((event) => event.position))).toBe(true);
        // A duplicate delivered after the thousandth event would come before this marker.
        const marker = anEvent('Marker');
        await store.append('marker-1', [marker], { expectedRevision: 'no_stream' });
        expect(ids(await nextEvents(events, 1))).toEqual([marker.eventId]);
      });

      it('starts after the given position', async () => {
        await store.append('s-1', someEvents(10), { expectedRevision: 'no_stream' });
        const log = await collect(store.readAll());
        const received = await nextEvents(subscribe({ afterPosition: log[4]!.position })[Symbol.asyncIterator](), 5);
        expect(ids(received)).toEqual(ids(log.slice(5)));
      });

      it('delivers only matching events, in catch-up and live', async () => {
        await store.append('account-1', [anEvent('Wanted'), anEvent('Unwanted')], { expectedRevision: 'any' });
        await store.append('incident-1', [anEvent('Wanted')], { expectedRevision: 'any' });
        const events = subscribe({ filter: { eventTypes: ['Wanted'], streamPrefixes: ['account-'] } })[Symbol.asyncIterator]();
        const receiving = nextEvents(events, 3);
        await store.append('account-2', [anEvent('Unwanted'), anEvent('Wanted')], { expectedRevision: 'any' });
        await store.append('incident-2', [anEvent('Wanted')], { expectedRevision: 'any' });
        await store.append('account-3', [anEvent('Wanted')], { expectedRevision: 'any' });
        const received = await receiving;
        expect(received.map((event) => [event.streamId, event.type])).toEqual([
          ['account-1', 'Wanted'],
          ['account-2', 'Wanted'],
          ['account-3', 'Wanted'],
        ]);
      });

      it('serves several subscriptions at once, each with every event', async () => {
        const iterators = [subscribe(), subscribe(), subscribe()].map((subscription) => subscription[Symbol.asyncIterator]());
        const receiving = iterators.map((iterator) => nextEvents(iterator, 30));
        for (let batch = 0; batch < 3; batch += 1) await store.append(`s-${batch}`, someEvents(10), { expectedRevision: 'any' });
        const expected = ids(await collect(store.readAll()));
        for (const received of await Promise.all(receiving)) expect(ids(received)).toEqual(expected);
      });

      it('ends a pending next() when closed, and every later one', async () => {
        await store.append('s-1', someEvents(2), { expectedRevision: 'no_stream' });
        const subscription = subscribe();
        const events = subscription[Symbol.asyncIterator]();
        await nextEvents(events, 2);
        const pending = events.next();
        await subscription.close();
        await expect(pending).resolves.toMatchObject({ done: true });
        await store.append('s-1', [anEvent()], { expectedRevision: 1n });
        await expect(events.next()).resolves.toMatchObject({ done: true });
      });

      it('ends a for-await loop that breaks, and the store keeps working', async () => {
        await store.append('s-1', someEvents(3), { expectedRevision: 'no_stream' });
        const received: RecordedEvent[] = [];
        for await (const event of subscribe()) {
          received.push(event);
          if (received.length === 2) break;
        }
        expect(received).toHaveLength(2);
        await expect(store.append('s-1', [anEvent()], { expectedRevision: 2n })).resolves.toMatchObject({ nextRevision: 3n });
      });
    });

    describe('validation', () => {
      async function expectRefused(streamId: string, events: readonly EventToAppend[], pattern: RegExp): Promise<void> {
        const before = await collect(store.readAll());
        const error = await rejectionOf(store.append(streamId, events, { expectedRevision: 'any' }));
        expect(error).toBeInstanceOf(InvalidAppendError);
        expect((error as Error).message).toMatch(pattern);
        await expectLogUnchanged(before);
      }

      it('accepts unicode stream names and names of exactly the maximum length in characters', async () => {
        const names = ['compte-élève-账户-💸', 'a'.repeat(MAX_STREAM_ID_CHARS), '💸'.repeat(MAX_STREAM_ID_CHARS)];
        for (const name of names) {
          const event = anEvent();
          await store.append(name, [event], { expectedRevision: 'no_stream' });
          expect(ids(await collect(store.readStream(name)))).toEqual([event.eventId]);
          expect(await store.streamRevision(name)).toBe(0n);
        }
        expect(await collect(store.readAll({ filter: { streamPrefixes: ['compte-élève-'] } }))).toHaveLength(1);
      });

      it('refuses stream names that are too long, empty or hold control characters', async () => {
        await expectRefused('a'.repeat(MAX_STREAM_ID_CHARS + 1), [anEvent()], /256 characters/);
        await expectRefused('💸'.repeat(MAX_STREAM_ID_CHARS + 1), [anEvent()], /256 characters/);
        await expectRefused('', [anEvent()], /stream id/);
        await expectRefused('line\nbreak', [anEvent()], /control/);
      });

      it('refuses an event over 1 MiB of JSON, naming the limit, and accepts one just under it', async () => {
        const oversized = anEvent('Big', { blob: 'x'.repeat(MAX_EVENT_BYTES) });
        await expectRefused('big-1', [anEvent(), oversized], /1048576 bytes/);
        const large = anEvent('Big', { blob: 'é'.repeat((MAX_EVENT_BYTES - 4_096) / 2) });
        await store.append('big-1', [large], { expectedRevision: 'no_stream' });
        expect((await collect(store.readStream('big-1')))[0]!.data).toEqual(large.data);
      });

      it('refuses an append whose events together exceed 1 MiB as EventStoreDB counts them, writing none of it', async () => {
        // Each event alone is well under the per-event limit; together (data + metadata + 2 x type) they are not.
        const half = () => anEvent('Big', { blob: 'x'.repeat(MAX_APPEND_BYTES / 2) });
        await expectRefused('big-1', [half(), half()], /append .*1048576 bytes/);
        expect(await store.streamRevision('big-1')).toBeUndefined();
      });

      it('refuses event types that EventStoreDB reserves ($...) and empty types, which would poison the stream', async () => {
        await expectRefused('s-1', [anEvent('$>')], /type must not start with \$/);
        await expectRefused('s-1', [anEvent('$metadata')], /type must not start with \$/);
        await expectRefused('s-1', [anEvent('')], /type must be a non-empty string/);
        expect(await store.streamRevision('s-1')).toBeUndefined();
      });

      it('refuses the nil UUID as an event id (EventStoreDB refuses it; it is no command-derived id)', async () => {
        await expectRefused('s-1', [{ ...anEvent(), eventId: '00000000-0000-0000-0000-000000000000' }], /nil UUID/);
      });

      it('refuses empty and oversized batches, bad or repeated event ids, and a negative expected revision', async () => {
        const repeated = anEvent();
        await expectRefused('s-1', [], /at least one event/);
        await expectRefused('s-1', someEvents(MAX_EVENTS_PER_APPEND + 1), /at most 1000 events/);
        await expectRefused('s-1', [{ ...anEvent(), eventId: 'not-a-uuid' }], /UUID/);
        await expectRefused('s-1', [repeated, anEvent(), repeated], /twice/);
        await expect(store.append('s-1', [anEvent()], { expectedRevision: -1n })).rejects.toBeInstanceOf(InvalidAppendError);
        expect(await store.headPosition()).toBeUndefined();
      });
    });

    describe('closing and durability', () => {
      it('refuses calls after close', async () => {
        await store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
        await store.close();
        await expect(store.append('s-1', [anEvent()], { expectedRevision: 'any' })).rejects.toThrow(/closed/);
        await expect(collect(store.readStream('s-1'))).rejects.toThrow(/closed/);
        await expect(store.headPosition()).rejects.toThrow(/closed/);
        await expect(store.close()).resolves.toBeUndefined();
      });

      it('ends open subscriptions when the store closes', async () => {
        const events = store.subscribe()[Symbol.asyncIterator]();
        const pending = events.next();
        await store.close();
        await expect(pending).resolves.toMatchObject({ done: true });
      });

      it('keeps events, revisions, command records and the chain across close and reopen', async () => {
        // Adapters without a reopen (none so far) cannot show durability here; the factory decides.
        if (context.reopen === undefined) return;
        const command = { key: 'k-1', requestHash: 'h'.repeat(64) };
        const first = await store.append('s-1', someEvents(3), { expectedRevision: 'no_stream', command });
        const before = await collect(store.readAll());
        // Not awaited: close() must still commit it before closing.
        const late = anEvent();
        const pending = store.append('s-2', [late], { expectedRevision: 'no_stream' });
        await store.close();
        const second = await pending;

        const reopened = await context.reopen();
        const after = await collect(reopened.readAll());
        expect(after.slice(0, 3)).toEqual(before);
        expect(after.slice(3).map((event) => [event.eventId, event.position])).toEqual([[late.eventId, second.position]]);
        expect(await reopened.streamRevision('s-1')).toBe(2n);
        expect(await reopened.findCommand('k-1')).toEqual({ ...command, result: first });
        await reopened.append('s-1', [anEvent()], { expectedRevision: 2n });
        const chain = await collect(reopened.readStream('s-1'));
        expect(chain[3]!.metadata.prevHash).toBe(chain[2]!.metadata.hash);
      });
    });
  });
}
