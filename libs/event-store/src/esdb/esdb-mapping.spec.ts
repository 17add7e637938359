import { createHash, randomUUID } from 'node:crypto';
import {
  AccessDeniedError,
  ANY,
  CancelledError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  NO_STREAM,
  NotLeaderError,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
  type Filter,
  type JSONEventData,
} from './esdb-client';
import { prepareAppend } from '../append-validation';
import { InvalidAppendError, WrongExpectedRevisionError } from '../errors';
import type { CommandRecord, EventToAppend, MetadataToAppend } from '../event-store.port';
import { eventHash, GENESIS_HASH, metadataWithoutChain } from '../hash-chain';
import {
  assertLedgerStreamId,
  backoffDelayMs,
  chainedEvents,
  COMMAND_RECORD_EVENT_TYPE,
  commandRecordEvent,
  commandStreamId,
  comparePositions,
  DEFAULT_COMMAND_STREAM_PREFIX,
  escapeRegex,
  fromEsdbPosition,
  isStreamNotFound,
  isTransientError,
  ledgerStreamOf,
  matchesFilter,
  matchesNothing,
  physicalStreamId,
  sameCommandRecord,
  streamLayout,
  subscriptionFilter,
  toActualRevision,
  toCommandRecord,
  toEsdbExpectedRevision,
  toEsdbPosition,
  toRecordedEvent,
  toStoreError,
  type EsdbRecord,
} from './esdb-mapping';

const layout = streamLayout({});
const namespaced = streamLayout({ namespace: 'ledger-a.' });

function metadata(): MetadataToAppend {
  return {
    commandId: 'command-1',
    correlationId: 'correlation-1',
    causationId: 'causation-1',
    actor: { id: 'user-1', role: 'service' },
    recordedAt: '2024-03-01T12:00:00.000Z',
    schemaVersion: 1,
  };
}

function anEvent(type = 'FundsDeposited', data: unknown = { amount: '1.5' }): EventToAppend {
  return { eventId: randomUUID(), type, data, metadata: metadata() };
}

/** A record as the client returns it from a read, written by chainedEvents. */
function recordOf(written: JSONEventData, overrides: Partial<EsdbRecord> = {}): EsdbRecord {
  return {
    streamId: 'account-1',
    id: written.id,
    revision: 0n,
    type: written.type,
    isJson: true,
    data: JSON.parse(JSON.stringify(written.data)) as unknown,
    metadata: JSON.parse(JSON.stringify(written.metadata)) as unknown,
    position: { commit: 4_096n, prepare: 4_096n },
    ...overrides,
  };
}

function chained(
  streamId: string,
  events: readonly EventToAppend[],
  revision = 0n,
  prevHash = GENESIS_HASH,
): JSONEventData[] {
  const prepared = prepareAppend(streamId, events, { expectedRevision: 'any' });
  return chainedEvents(streamId, prepared.events, { revision, prevHash }) as JSONEventData[];
}

function regexOf(filter: Filter): RegExp {
  if (!('regex' in filter)) throw new Error('expected a regex filter');
  return new RegExp(filter.regex);
}

describe('expected revisions', () => {
  it('maps each of the port expected revisions to the client constant or the same bigint', () => {
    expect(toEsdbExpectedRevision('any')).toBe(ANY);
    expect(toEsdbExpectedRevision('no_stream')).toBe(NO_STREAM);
    expect(toEsdbExpectedRevision('stream_exists')).toBe(STREAM_EXISTS);
    expect(toEsdbExpectedRevision(0n)).toBe(0n);
    expect(toEsdbExpectedRevision(9_007_199_254_740_993n)).toBe(9_007_199_254_740_993n);
  });

  it("reads the server's current revision, with no stream as undefined", () => {
    expect(toActualRevision(NO_STREAM)).toBeUndefined();
    expect(toActualRevision(0n)).toBe(0n);
    expect(toActualRevision(41n)).toBe(41n);
  });
});

describe('errors', () => {
  const wrongVersion = (current: bigint | typeof NO_STREAM) =>
    new WrongExpectedVersionError(undefined, { streamName: 'account-1', expected: 3n, current });

  it("turns a wrong expected version into the port's error, with what the caller expected and what the stream is at", () => {
    const refused = toStoreError(wrongVersion(7n), 'account-1', 'stream_exists');
    expect(refused).toBeInstanceOf(WrongExpectedRevisionError);
    expect(refused).toMatchObject({
      streamId: 'account-1',
      expected: 'stream_exists',
      actual: 7n,
      code: 'WRONG_EXPECTED_REVISION',
    });
    expect(toStoreError(wrongVersion(NO_STREAM), 'account-1', 3n)).toMatchObject({ expected: 3n, actual: undefined });
  });

  it("turns the server's maximum append size into an invalid append that names the size", () => {
    const refused = toStoreError(MaxAppendSizeExceededError.fromMaxAppendSize(1_048_576), 's-1', 'any');
    expect(refused).toBeInstanceOf(InvalidAppendError);
    expect((refused as Error).message).toMatch(/maximum append size of 1048576 bytes/);
  });

  it('leaves every other failure as it is: a fault', () => {
    for (const fault of [new AccessDeniedError(), new UnavailableError(), new Error('boom')]) {
      expect(toStoreError(fault, 's-1', 'any')).toBe(fault);
    }
  });

  it('retries lost connections, leader changes, timeouts and cancellations, not refusals, unknown errors or plain errors', () => {
    const notLeader = new NotLeaderError({
      metadata: { getMap: () => ({ 'leader-endpoint-host': 'node-2', 'leader-endpoint-port': '2113' }) },
    } as unknown as ConstructorParameters<typeof NotLeaderError>[0]);
    for (const transient of [
      new UnavailableError(),
      notLeader,
      new DeadlineExceededError(),
      new CancelledError(),
    ]) {
      expect(isTransientError(transient)).toBe(true);
    }
    const answers = [
      new UnknownError(undefined, 'Bad request'),
      new AccessDeniedError(),
      wrongVersion(1n),
      new StreamNotFoundError(undefined, 's'),
      new Error('x'),
      'text',
    ];
    for (const answer of answers) expect(isTransientError(answer)).toBe(false);
  });

  it('recognises a missing stream', () => {
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 'account-1'))).toBe(true);
    expect(isStreamNotFound(new UnavailableError())).toBe(false);
    expect(isStreamNotFound(undefined)).toBe(false);
  });
});

describe('backoff', () => {
  it('grows from about the base delay, doubling, up to the cap, with jitter in the upper half', () => {
    expect(backoffDelayMs(1, () => 0)).toBe(50);
    expect(backoffDelayMs(1, () => 1)).toBe(100);
    expect(backoffDelayMs(3, () => 1)).toBe(400);
    expect(backoffDelayMs(30, () => 1)).toBe(2_000);
    expect(backoffDelayMs(1_000, () => 0.5)).toBe(1_500);
  });
});

describe('positions', () => {
  it('sends a position as the same commit and prepare', () => {
    expect(toEsdbPosition(1_234n)).toEqual({ commit: 1_234n, prepare: 1_234n });
  });

  it('reads the commit position of an event written by an append', () => {
    expect(fromEsdbPosition({ commit: 2_048n, prepare: 2_048n }, 'e')).toBe(2_048n);
  });

  it('refuses a missing position (servers before 22.6) and the all-ones "no position" marker', () => {
    expect(() => fromEsdbPosition(undefined, 'event x')).toThrow(/event x has no \$all position.*22\.6/);
    expect(() => fromEsdbPosition({ commit: 0n, prepare: 0n }, 'e')).toThrow(/no \$all position/);
    expect(() => fromEsdbPosition({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n }, 'e')).toThrow(
      /no \$all position/,
    );
  });

  it('refuses an event of an explicit transaction, whose commit position it shares with others', () => {
    expect(() => fromEsdbPosition({ commit: 900n, prepare: 700n }, 'e')).toThrow(/explicit transaction/);
  });

  it('orders positions by commit, then prepare', () => {
    expect(comparePositions({ commit: 1n, prepare: 1n }, { commit: 2n, prepare: 0n })).toBe(-1);
    expect(comparePositions({ commit: 5n, prepare: 4n }, { commit: 5n, prepare: 3n })).toBe(1);
    expect(comparePositions({ commit: 5n, prepare: 5n }, { commit: 5n, prepare: 5n })).toBe(0);
  });
});

describe('stream layout', () => {
  it('puts ledger streams behind the namespace and command records in hashed streams', () => {
    expect(physicalStreamId(layout, 'account-1')).toBe('account-1');
    expect(physicalStreamId(namespaced, 'account-1')).toBe('ledger-a.account-1');
    const sha = createHash('sha256').update('api-key-1:req-1').digest('hex');
    expect(commandStreamId(layout, 'api-key-1:req-1')).toBe(`${DEFAULT_COMMAND_STREAM_PREFIX}${sha}`);
    expect(commandStreamId(namespaced, 'api-key-1:req-1')).toBe(`ledger-a.ledger-commands-${sha}`);
    expect(commandStreamId(streamLayout({ commandStreamPrefix: '$ledger-command-' }), 'k')).toMatch(
      /^\$ledger-command-[0-9a-f]{64}$/,
    );
  });

  it('refuses a namespace that would make system streams, and an empty command prefix', () => {
    expect(() => streamLayout({ namespace: '$ledger' })).toThrow(/namespace/);
    expect(() => streamLayout({ namespace: 'a\nb' })).toThrow(/namespace/);
    expect(() => streamLayout({ commandStreamPrefix: '' })).toThrow(/command stream prefix/);
  });

  it('refuses to append to system streams and to streams that would pass for command records', () => {
    expect(() => assertLedgerStreamId(layout, '$settings')).toThrow(InvalidAppendError);
    expect(() => assertLedgerStreamId(layout, 'ledger-commands-abc')).toThrow(/reserved for command records/);
    expect(() => assertLedgerStreamId(layout, 'account-1')).not.toThrow();
  });

  it("keeps only this ledger's events from $all", () => {
    expect(ledgerStreamOf(layout, { streamId: 'account-1', type: 'FundsDeposited' })).toBe('account-1');
    expect(ledgerStreamOf(layout, { streamId: '$stats-127.0.0.1:2113', type: '$statsCollected' })).toBeUndefined();
    expect(ledgerStreamOf(layout, { streamId: '$$account-1', type: '$metadata' })).toBeUndefined();
    expect(ledgerStreamOf(layout, { streamId: 'account-1', type: '$>' })).toBeUndefined();
    expect(
      ledgerStreamOf(layout, { streamId: commandStreamId(layout, 'k'), type: COMMAND_RECORD_EVENT_TYPE }),
    ).toBeUndefined();
    expect(ledgerStreamOf(namespaced, { streamId: 'ledger-a.account-1', type: 'T' })).toBe('account-1');
    expect(ledgerStreamOf(namespaced, { streamId: 'ledger-b.account-1', type: 'T' })).toBeUndefined();
    expect(ledgerStreamOf(namespaced, { streamId: commandStreamId(namespaced, 'k'), type: 'T' })).toBeUndefined();
  });
});

describe('writing events', () => {
  it('sends the port event ids, types, data and metadata, chained from the given revision and hash', () => {
    const events = [anEvent('WithdrawalRequested', { amount: '0.5' }), anEvent('WithdrawalApproved', 7)];
    const previous = 'ab'.repeat(32);
    const written = chained('account-1', events, 5n, previous);

    expect(written.map((event) => [event.id, event.type, event.contentType])).toEqual([
      [events[0]!.eventId, 'WithdrawalRequested', 'application/json'],
      [events[1]!.eventId, 'WithdrawalApproved', 'application/json'],
    ]);
    expect(written.map((event) => event.data)).toEqual([{ amount: '0.5' }, 7]);
    const [first, second] = written.map((event) => event.metadata as { prevHash: string; hash: string });
    expect(first).toEqual({ ...metadata(), prevHash: previous, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(second!.prevHash).toBe(first!.hash);
    const recomputed = eventHash({
      streamId: 'account-1',
      revision: 6n,
      type: 'WithdrawalApproved',
      data: 7,
      metadata: metadataWithoutChain(second as unknown as MetadataToAppend),
      prevHash: first!.hash,
    });
    expect(second!.hash).toBe(recomputed);
  });

  it('chains over the stream id it is given: the same event in another stream hashes differently', () => {
    const event = anEvent();
    const [plain] = chained('account-1', [event]);
    const [again] = chained('account-1', [event]);
    expect(plain!.metadata).toEqual(again!.metadata);
    expect(chained('account-2', [event])[0]!.metadata).not.toEqual(plain!.metadata);
  });
});

describe('reading events', () => {
  it('maps a resolved event to a recorded event: logical stream, revision, position, lower-case id, data and metadata', () => {
    const [written] = chained('account-1', [anEvent('FundsDeposited', { amount: '2', asset: 'ETH' })]);
    const record = recordOf(written!, { streamId: 'ledger-a.account-1', id: written!.id.toUpperCase(), revision: 3n });
    expect(toRecordedEvent(namespaced, record)).toEqual({
      streamId: 'account-1',
      revision: 3n,
      position: 4_096n,
      eventId: written!.id.toLowerCase(),
      type: 'FundsDeposited',
      data: { amount: '2', asset: 'ETH' },
      metadata: written!.metadata,
    });
  });

  it('refuses what cannot be a ledger event, naming it', () => {
    const [written] = chained('account-1', [anEvent()]);
    const cases: [Partial<EsdbRecord>, RegExp][] = [
      [{ isJson: false }, /is not JSON/],
      [{ metadata: undefined }, /hash-chain fields/],
      [{ metadata: new Uint8Array([1, 2]) }, /hash-chain fields/],
      [{ metadata: { ...metadata(), prevHash: 'x', hash: 'y' } }, /hash-chain fields/],
      [{ position: undefined }, /no \$all position/],
      [{ position: { commit: 10n, prepare: 9n } }, /explicit transaction/],
      [{ streamId: '$stats-1' }, /not part of this ledger's log/],
    ];
    for (const [overrides, message] of cases) {
      expect(() => toRecordedEvent(layout, recordOf(written!, overrides))).toThrow(message);
    }
  });
});

describe('filters', () => {
  it('matches nothing for an empty list, everything without a filter, and every list given', () => {
    expect(matchesNothing({ eventTypes: [] })).toBe(true);
    expect(matchesNothing({ streamPrefixes: [] })).toBe(true);
    expect(matchesNothing({})).toBe(false);
    expect(matchesNothing(undefined)).toBe(false);
    expect(matchesFilter(undefined, 'account-1', 'A')).toBe(true);
    expect(matchesFilter({ eventTypes: ['A', 'B'] }, 'account-1', 'B')).toBe(true);
    expect(matchesFilter({ eventTypes: ['A'] }, 'account-1', 'AB')).toBe(false);
    expect(matchesFilter({ eventTypes: ['A'], streamPrefixes: ['incident-'] }, 'account-1', 'A')).toBe(false);
    expect(matchesFilter({ eventTypes: ['A'], streamPrefixes: ['x-', 'account-'] }, 'account-1', 'A')).toBe(true);
  });

  it('escapes every regex metacharacter and nothing else', () => {
    const tricky = 'a.b*c+d?e|f{1}[g](h)^i$j#k\\l-m_n é';
    expect(new RegExp(`^${escapeRegex(tricky)}$`).test(tricky)).toBe(true);
    expect(new RegExp(`^${escapeRegex('a.b')}$`).test('axb')).toBe(false);
    expect(escapeRegex('Account-Opened_2 é')).toBe('Account-Opened_2 é');
  });

  it('sends the event types to the server as an exact-match regex', () => {
    const filter = subscriptionFilter(layout, {
      eventTypes: ['WithdrawalRequested', 'Odd.Type'],
      streamPrefixes: ['account-'],
    });
    expect(filter.filterOn).toBe('eventType');
    const regex = regexOf(filter);
    expect(['WithdrawalRequested', 'Odd.Type'].every((type) => regex.test(type))).toBe(true);
    expect(['WithdrawalRequestedV2', 'OddxType', 'XWithdrawalRequested', '$>'].some((type) => regex.test(type))).toBe(
      false,
    );
  });

  it('sends the stream prefixes behind the namespace, or the namespace alone', () => {
    expect(subscriptionFilter(namespaced, { streamPrefixes: ['account-', 'incident-'] })).toMatchObject({
      filterOn: 'streamName',
      prefixes: ['ledger-a.account-', 'ledger-a.incident-'],
    });
    expect(subscriptionFilter(namespaced, undefined)).toMatchObject({
      filterOn: 'streamName',
      prefixes: ['ledger-a.'],
    });
  });

  it('without a filter, keeps system streams and command records out on the server', () => {
    const filter = subscriptionFilter(layout, {});
    expect(filter.filterOn).toBe('streamName');
    const regex = regexOf(filter);
    expect(regex.test('account-1')).toBe(true);
    expect(regex.test('ledger-1')).toBe(true);
    expect(regex.test('$stats-127.0.0.1:2113')).toBe(false);
    expect(regex.test('$$account-1')).toBe(false);
    expect(regex.test(commandStreamId(layout, 'k'))).toBe(false);
  });
});

describe('command records', () => {
  const record: CommandRecord = {
    key: 'api-key-1:request-1',
    requestHash: 'a'.repeat(64),
    result: {
      streamId: 'account-1',
      nextRevision: 12n,
      position: 9_007_199_254_740_993n,
      eventIds: [randomUUID(), randomUUID()],
    },
  };

  function stored(event: ReturnType<typeof commandRecordEvent>, overrides: Partial<EsdbRecord> = {}): EsdbRecord {
    const data = JSON.parse(JSON.stringify(event.data)) as unknown;
    return {
      streamId: commandStreamId(layout, record.key),
      id: event.id,
      revision: 0n,
      type: event.type,
      isJson: true,
      data,
      metadata: undefined,
      ...overrides,
    };
  }

  it('round-trips a record through its event, bigints included', () => {
    const event = commandRecordEvent(record);
    expect(event.type).toBe(COMMAND_RECORD_EVENT_TYPE);
    expect(toCommandRecord(stored(event), record.key)).toEqual(record);
  });

  it('derives the event id from the whole record: the same record again is the same write, another one is not', () => {
    expect(commandRecordEvent(record).id).toBe(commandRecordEvent({ ...record }).id);
    expect(commandRecordEvent({ ...record, requestHash: 'b'.repeat(64) }).id).not.toBe(commandRecordEvent(record).id);
    const movedOn = { ...record, result: { ...record.result, nextRevision: 13n } };
    expect(commandRecordEvent(movedOn).id).not.toBe(commandRecordEvent(record).id);
    expect(sameCommandRecord(record, { ...record })).toBe(true);
    expect(sameCommandRecord(record, movedOn)).toBe(false);
  });

  it('refuses a stored record that is malformed, of another type, or of another key', () => {
    const event = commandRecordEvent(record);
    expect(() => toCommandRecord(stored(event, { type: 'Other' }), record.key)).toThrow(/has type Other/);
    expect(() => toCommandRecord(stored(event, { data: { key: record.key } }), record.key)).toThrow(/malformed/);
    const badRevision = {
      ...(event.data as object),
      result: { ...record.result, nextRevision: '-1', position: '1', eventIds: [] },
    };
    expect(() => toCommandRecord(stored(event, { data: badRevision }), record.key)).toThrow(/malformed/);
    expect(() => toCommandRecord(stored(event), 'api-key-1:request-2')).toThrow(/another key/);
  });
});
