import { createHash } from 'node:crypto';
import {
  ANY,
  BACKWARDS,
  ErrorType,
  eventTypeFilter,
  isCommandError,
  jsonEvent,
  MaxAppendSizeExceededError,
  NO_STREAM,
  STREAM_EXISTS,
  streamNameFilter,
  WrongExpectedVersionError,
  type AppendExpectedRevision,
  type CurrentRevision,
  type Direction,
  type EventData,
  type Filter,
  type JSONType,
  type Position,
} from './esdb-client';
import type { PreparedEvent } from '../append-validation';
import { canonicalJson } from '../canonical-json';
import { InvalidAppendError, WrongExpectedRevisionError } from '../errors';
import { eventIdFor } from '../event-ids';
import type { CommandRecord, EventFilter, EventMetadata, ExpectedRevision, RecordedEvent } from '../event-store.port';
import { eventHash } from '../hash-chain';

/**
 * The pure half of the EventStoreDB adapter: how the port's values map to the client's and back. Everything here is
 * unit-tested without a server (esdb-mapping.spec.ts); esdb-event-store.ts only sequences the I/O.
 */

/** A normal (non-`$`) prefix, so that the ledger's own user needs no admin rights to write command records. */
export const DEFAULT_COMMAND_STREAM_PREFIX = 'ledger-commands-';
export const COMMAND_RECORD_EVENT_TYPE = 'LedgerCommandRecorded';

/** EventStoreDB stores positions and revisions as signed 64-bit integers; anything larger is a "no value" marker. */
export const MAX_INT64 = 2n ** 63n - 1n;

// ---- stream layout ---------------------------------------------------------------------------------------------

/**
 * Where this store's streams live in the cluster. `namespace` prefixes every physical stream name (several ledgers,
 * or test runs, can share one cluster: an EventStoreDB database cannot be dropped); the hash chain is computed over
 * the logical stream id, so a namespace never changes a hash and an exported log verifies anywhere.
 */
export interface StreamLayout {
  readonly namespace: string;
  readonly commandStreamPrefix: string;
}

const CONTROL_CHARACTERS = /[\p{Cc}\p{Cs}]/u;

export function streamLayout(options: {
  readonly namespace?: string;
  readonly commandStreamPrefix?: string;
}): StreamLayout {
  const namespace = options.namespace ?? '';
  const commandStreamPrefix = options.commandStreamPrefix ?? DEFAULT_COMMAND_STREAM_PREFIX;
  if (CONTROL_CHARACTERS.test(namespace) || namespace.startsWith('$')) {
    throw new Error('the EventStoreDB namespace must not start with $ or contain control characters');
  }
  // A `$` prefix is allowed (system streams, which need admin rights) but an empty one would swallow every stream.
  if (commandStreamPrefix === '' || CONTROL_CHARACTERS.test(commandStreamPrefix)) {
    throw new Error('the EventStoreDB command stream prefix must be non-empty, without control characters');
  }
  return { namespace, commandStreamPrefix };
}

export function physicalStreamId(layout: StreamLayout, streamId: string): string {
  return layout.namespace + streamId;
}

/** One stream per idempotency key; hashed, so that any key (up to 1,024 characters) makes a short, safe name. */
export function commandStreamId(layout: StreamLayout, key: string): string {
  return `${layout.namespace}${layout.commandStreamPrefix}${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** Stream ids the ledger may write: not a system stream, and not one that would pass for a command record. */
export function isLedgerStreamId(layout: StreamLayout, streamId: string): boolean {
  return !streamId.startsWith('$') && !streamId.startsWith(layout.commandStreamPrefix);
}

/** prepareAppend checks the port's limits; these two names are reserved by EventStoreDB and by this adapter. */
export function assertLedgerStreamId(layout: StreamLayout, streamId: string): void {
  if (streamId.startsWith('$')) {
    throw new InvalidAppendError(`stream id must not start with $ (EventStoreDB reserves it for system streams)`);
  }
  if (streamId.startsWith(layout.commandStreamPrefix)) {
    throw new InvalidAppendError(
      `stream id must not start with ${layout.commandStreamPrefix} (reserved for command records)`,
    );
  }
}

/**
 * The logical stream id of an event read from $all, or undefined when the event is not part of this ledger's log:
 * a system stream (`$...`: stats, metadata, projection links), a system event type in a user stream (such as a
 * `$>` link), a stream of another namespace, or a command record.
 */
export function ledgerStreamOf(
  layout: StreamLayout,
  event: { readonly streamId: string; readonly type: string },
): string | undefined {
  if (event.streamId.startsWith('$') || event.type.startsWith('$')) return undefined;
  if (!event.streamId.startsWith(layout.namespace)) return undefined;
  const streamId = event.streamId.slice(layout.namespace.length);
  return isLedgerStreamId(layout, streamId) ? streamId : undefined;
}

// ---- expected and actual revisions -----------------------------------------------------------------------------

/** The port's expected revision, as the client spells it. */
export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return expected;
  }
}

/** The client's "current revision" of a stream; undefined when the stream has no events. */
export function toActualRevision(current: CurrentRevision): bigint | undefined {
  return current === NO_STREAM ? undefined : current;
}

/** A refused append, as the port's error; `expected` is what the caller asked for, not what was sent. */
export function toWrongExpectedRevision(
  error: WrongExpectedVersionError,
  streamId: string,
  expected: ExpectedRevision,
): WrongExpectedRevisionError {
  return new WrongExpectedRevisionError(streamId, expected, toActualRevision(error.actualVersion));
}

/** Maps the client's expected append failures to the port's errors; anything else is returned unchanged (a fault). */
export function toStoreError(error: unknown, streamId: string, expected: ExpectedRevision): unknown {
  if (error instanceof WrongExpectedVersionError) return toWrongExpectedRevision(error, streamId, expected);
  if (error instanceof MaxAppendSizeExceededError) {
    return new InvalidAppendError(
      `the append is larger than the EventStoreDB server's maximum append size of ${error.maxAppendSize} bytes; ` +
        'append fewer events at once',
    );
  }
  return error;
}

export function isStreamNotFound(error: unknown): boolean {
  return error instanceof Error && isCommandError(error) && error.type === ErrorType.STREAM_NOT_FOUND;
}

/**
 * The failures the server documents as transient. UNKNOWN is not one: the server also answers deterministic
 * refusals so (a bad request, such as the nil UUID as an event id), and sending those again changes nothing.
 */
const TRANSIENT_ERRORS: ReadonlySet<ErrorType> = new Set([
  ErrorType.UNAVAILABLE, // connection lost, node down
  ErrorType.NOT_LEADER, // leader change: the client rediscovers the leader on the next call
  ErrorType.DEADLINE_EXCEEDED, // clock skew, which never passes, is told apart before this (esdb-event-store.ts)
  ErrorType.TIMEOUT, // the write was not replicated to a quorum in time (a new leader may still commit it)
  ErrorType.CANCELLED, // the server ended the call (shutdown, subscription dropped)
]);

export function isStreamDeleted(error: unknown): boolean {
  return error instanceof Error && isCommandError(error) && error.type === ErrorType.STREAM_DELETED;
}

export function isDeadlineExceeded(error: unknown): boolean {
  return error instanceof Error && isCommandError(error) && error.type === ErrorType.DEADLINE_EXCEEDED;
}

/** Failures worth retrying the same request for (bounded); anything else is an answer or a fault. */
export function isTransientError(error: unknown): boolean {
  return error instanceof Error && isCommandError(error) && TRANSIENT_ERRORS.has(error.type);
}

/** Exponential backoff with jitter, capped: attempt 1 waits about `baseMs`, later ones at most `maxMs`. */
export function backoffDelayMs(
  attempt: number,
  random: () => number = Math.random,
  baseMs = 100,
  maxMs = 2_000,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 20));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * A stream read to send again after it delivered `delivered` records up to revision `last`: on from the next
 * revision in its direction, for what is left of its count; undefined when nothing is left to read.
 */
export function resumedStreamRead<T extends { readonly direction?: Direction; readonly maxCount?: number | bigint }>(
  request: T,
  last: bigint,
  delivered: number,
): (T & { readonly fromRevision: bigint }) | undefined {
  const maxCount = request.maxCount === undefined ? undefined : BigInt(request.maxCount) - BigInt(delivered);
  const backwards = request.direction === BACKWARDS;
  if ((maxCount !== undefined && maxCount <= 0n) || (backwards && last === 0n)) return undefined;
  return { ...request, fromRevision: backwards ? last - 1n : last + 1n, ...(maxCount === undefined ? {} : { maxCount }) };
}

// ---- positions -------------------------------------------------------------------------------------------------

/**
 * The port's position is the event's commit position in the transaction log.
 *
 * Every append made through gRPC is an implicit transaction in which each event is its own committed prepare
 * record, so the server reports each event at `{ commit: p, prepare: p }` with p the byte offset of its record
 * (AllReader builds `TFPos(LogPosition, LogPosition)` for such records). The prepare position is therefore the
 * commit position: no mapping table is needed. Only events of explicit transactions (the legacy TCP API) have
 * `prepare < commit` and share a commit position; this adapter never writes those and refuses to read them as
 * ledger events (fromEsdbPosition).
 *
 * Positions are byte offsets, not a dense sequence: `p + 1n` is not the position of any record, and EventStoreDB
 * must never be asked to read from such a position (the read fails or, on older servers, returns nothing). The
 * adapter only hands the server positions of records it has seen (see known-positions.ts).
 */
export function toEsdbPosition(position: bigint): Position {
  return { commit: position, prepare: position };
}

/** The position of an event written by this adapter; throws when the server sent none, or one this port cannot use. */
export function fromEsdbPosition(position: Position | undefined, what: string): bigint {
  if (position === undefined || position.commit <= 0n || position.commit > MAX_INT64) {
    // Servers before 22.6 send no $all position on stream reads (or an all-ones "no position" marker).
    throw new Error(`${what} has no $all position; the esdb adapter needs EventStoreDB 22.6 or later`);
  }
  if (position.prepare !== position.commit) {
    throw new Error(
      `${what} was written in an explicit transaction (commit ${position.commit}, prepare ${position.prepare})`,
    );
  }
  return position.commit;
}

/** Orders two positions of the log the way the server does: by commit, then by prepare. */
export function comparePositions(left: Position, right: Position): number {
  if (left.commit !== right.commit) return left.commit < right.commit ? -1 : 1;
  if (left.prepare !== right.prepare) return left.prepare < right.prepare ? -1 : 1;
  return 0;
}

// ---- events ----------------------------------------------------------------------------------------------------

/** The fields of the client's recorded event that the adapter uses (the client's own type is a deep union). */
export interface EsdbRecord {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: Position;
  /** The server's clock when it wrote the event. */
  readonly created?: Date;
}

/** Where the first new event of an append goes, and the hash it links to. */
export interface ChainStart {
  readonly revision: bigint;
  readonly prevHash: string;
}

/**
 * The events of an append, hash-chained from `start`. The hash is over the logical stream id and the data and
 * metadata exactly as a reader gets them back (prepareAppend parsed them from their JSON), so it recomputes from
 * what is read.
 */
export function chainedEvents(streamId: string, events: readonly PreparedEvent[], start: ChainStart): EventData[] {
  let prevHash = start.prevHash;
  return events.map((event, index) => {
    const revision = start.revision + BigInt(index);
    const hash = eventHash({
      streamId,
      revision,
      type: event.type,
      data: event.data,
      metadata: event.metadata,
      prevHash,
    });
    const metadata: EventMetadata = { ...event.metadata, prevHash, hash };
    prevHash = hash;
    // The client sends JSON.stringify(data), which encodes every JSON value; its type only admits objects,
    // arrays and strings, so numbers, booleans and null (valid event data for the port) need this cast.
    return jsonEvent({ id: event.eventId, type: event.type, data: event.data as JSONType, metadata: { ...metadata } });
  });
}

const HASH = /^[0-9a-f]{64}$/;

/** A ledger event read back from EventStoreDB; throws (a fault, reported by audits) when it cannot be one. */
export function toRecordedEvent(layout: StreamLayout, record: EsdbRecord): RecordedEvent {
  const where = `event ${record.id} at revision ${record.revision} of stream ${record.streamId}`;
  const streamId = ledgerStreamOf(layout, record);
  if (streamId === undefined) throw new Error(`${where} is not part of this ledger's log`);
  if (!record.isJson) throw new Error(`${where} is not JSON`);
  if (!isEventMetadata(record.metadata)) throw new Error(`${where} has no JSON metadata with the hash-chain fields`);
  return {
    streamId,
    revision: record.revision,
    position: fromEsdbPosition(record.position, where),
    eventId: record.id.toLowerCase(),
    type: record.type,
    data: record.data,
    metadata: record.metadata,
  };
}

function isEventMetadata(value: unknown): value is EventMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  const { prevHash, hash } = value as { prevHash?: unknown; hash?: unknown };
  return typeof prevHash === 'string' && HASH.test(prevHash) && typeof hash === 'string' && HASH.test(hash);
}

// ---- filters ---------------------------------------------------------------------------------------------------

/** True when the filter holds an empty list, which matches nothing (the port's rule). */
export function matchesNothing(filter: EventFilter | undefined): boolean {
  return filter?.eventTypes?.length === 0 || filter?.streamPrefixes?.length === 0;
}

/** The port's filter on a ledger event (logical stream id); the client-side check behind every server filter. */
export function matchesFilter(filter: EventFilter | undefined, streamId: string, type: string): boolean {
  if (filter?.eventTypes !== undefined && !filter.eventTypes.includes(type)) return false;
  if (filter?.streamPrefixes !== undefined && !filter.streamPrefixes.some((prefix) => streamId.startsWith(prefix)))
    return false;
  return true;
}

/** Escapes the characters that .NET regular expressions (the server's) give a meaning; the rest stay literal. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\*+?|{}[\]()^$.#]/g, '\\$&');
}

/**
 * The filter the server applies to a subscription, so that it skips what the ledger never wants before sending it.
 * The server takes one filter, on the event type or on the stream name, so only one of the port's lists can go to
 * the server; the adapter checks the whole filter again on what arrives (matchesFilter, ledgerStreamOf).
 *
 * Without a list, a stream-name regex keeps out system streams (`$...`, where all system events live) and the
 * command records in one go; `excludeSystemEvents()` (an event-type filter) would let the command records through.
 */
export function subscriptionFilter(layout: StreamLayout, filter: EventFilter | undefined): Filter {
  if (filter?.eventTypes !== undefined) {
    return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$` });
  }
  if (filter?.streamPrefixes !== undefined) {
    return streamNameFilter({ prefixes: filter.streamPrefixes.map((prefix) => layout.namespace + prefix) });
  }
  if (layout.namespace !== '') return streamNameFilter({ prefixes: [layout.namespace] });
  return streamNameFilter({ regex: `^(?!\\$|${escapeRegex(layout.commandStreamPrefix)})` });
}

// ---- command records -------------------------------------------------------------------------------------------

interface StoredCommandRecord {
  readonly key: string;
  readonly requestHash: string;
  readonly result: {
    readonly streamId: string;
    readonly nextRevision: string;
    readonly position: string;
    readonly eventIds: readonly string[];
  };
}

function toStored(record: CommandRecord): StoredCommandRecord {
  const { key, requestHash, result } = record;
  return {
    key,
    requestHash,
    result: {
      streamId: result.streamId,
      nextRevision: result.nextRevision.toString(),
      position: result.position.toString(),
      eventIds: [...result.eventIds],
    },
  };
}

/**
 * The event that records a command. Its id derives from the whole record, so writing the same record again (a
 * retry after an ambiguous failure) is an idempotent write, while a different record under the same key is not.
 */
export function commandRecordEvent(record: CommandRecord): EventData {
  const data = toStored(record);
  return jsonEvent({
    id: eventIdFor(`command-record\u0000${canonicalJson(data)}`, 0),
    type: COMMAND_RECORD_EVENT_TYPE,
    data: { ...data },
  });
}

/** The record stored under `key`; throws when the stored event is not one (a fault, not "no record"). */
export function toCommandRecord(record: EsdbRecord, key: string): CommandRecord {
  const where = `command record in stream ${record.streamId}`;
  if (record.type !== COMMAND_RECORD_EVENT_TYPE || !record.isJson) throw new Error(`${where} has type ${record.type}`);
  if (!isStoredCommandRecord(record.data)) throw new Error(`${where} is malformed`);
  const { data } = record;
  if (data.key !== key) throw new Error(`${where} belongs to another key`);
  return {
    key,
    requestHash: data.requestHash,
    result: {
      streamId: data.result.streamId,
      nextRevision: BigInt(data.result.nextRevision),
      position: BigInt(data.result.position),
      eventIds: [...data.result.eventIds],
    },
  };
}

function isStoredCommandRecord(value: unknown): value is StoredCommandRecord {
  const data = value as Partial<StoredCommandRecord> | null | undefined;
  const result = data?.result;
  return (
    typeof data?.key === 'string' &&
    typeof data.requestHash === 'string' &&
    typeof result?.streamId === 'string' &&
    isDecimal(result.nextRevision) &&
    isDecimal(result.position) &&
    Array.isArray(result.eventIds) &&
    result.eventIds.every((id) => typeof id === 'string')
  );
}

function isDecimal(value: unknown): value is string {
  return typeof value === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(value);
}

export function sameCommandRecord(left: CommandRecord, right: CommandRecord): boolean {
  return canonicalJson(toStored(left)) === canonicalJson(toStored(right));
}
