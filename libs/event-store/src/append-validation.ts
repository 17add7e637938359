import { InvalidAppendError } from './errors';
import { metadataWithoutChain } from './hash-chain';
import type { AppendOptions, Direction, EventFilter, EventToAppend, MetadataToAppend } from './event-store.port';

/**
 * Limits every adapter enforces on an append, so that one caller cannot make a commit, a row or a read unbounded.
 * They are the same for every adapter so that moving the ledger from one store to another never refuses old data.
 */
export const MAX_EVENTS_PER_APPEND = 1_000;
export const MAX_STREAM_ID_CHARS = 256;
export const MAX_EVENT_TYPE_CHARS = 256;
/** UTF-8 bytes of an event's data JSON plus its metadata JSON (before the store adds the hash-chain fields). */
export const MAX_EVENT_BYTES = 1_048_576;
/**
 * Bytes of one whole append as EventStoreDB counts them against its MaxAppendSize (1 MiB by default): for each
 * event, its data JSON, its metadata JSON (with the hash-chain fields the store adds) and twice its type's length.
 */
export const MAX_APPEND_BYTES = 1_048_576;
export const MAX_COMMAND_KEY_CHARS = 1_024;
export const MAX_REQUEST_HASH_CHARS = 256;

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Control characters, and lone UTF-16 surrogates, which no storage encodes faithfully. */
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cs}]/u;

/** An event checked and serialised outside the write transaction, so the transaction only does the I/O. */
export interface PreparedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly dataJson: string;
  /**
   * The data and metadata as a reader will get them back (parsed from the JSON that is stored). The hash is
   * computed over these, so it always recomputes from what was read, whatever `toJSON` or `NaN` the caller sent.
   */
  readonly data: unknown;
  readonly metadata: MetadataToAppend;
  /** `metadata` as JSON (JSON.stringify's bytes), encoded once: the size check and the stored form start from it. */
  readonly metadataJson: string;
}

export interface PreparedAppend {
  readonly streamId: string;
  readonly events: readonly PreparedEvent[];
  readonly options: AppendOptions;
}

/** Checks an append against the limits and serialises its events; throws InvalidAppendError when malformed. */
export function prepareAppend(streamId: string, events: readonly EventToAppend[], options: AppendOptions): PreparedAppend {
  assertName('stream id', streamId, MAX_STREAM_ID_CHARS);
  if (!Array.isArray(events) || events.length === 0) throw new InvalidAppendError('an append needs at least one event');
  if (events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidAppendError(`an append holds at most ${MAX_EVENTS_PER_APPEND} events, got ${events.length}`);
  }
  assertExpectedRevision(options);
  if (options.command !== undefined) {
    assertName('command key', options.command.key, MAX_COMMAND_KEY_CHARS);
    assertName('command request hash', options.command.requestHash, MAX_REQUEST_HASH_CHARS);
  }
  const seenIds = new Set<string>();
  const prepared = events.map((event, index) => {
    const checked = prepareEvent(event, index);
    if (seenIds.has(checked.eventId)) throw new InvalidAppendError(`event id ${checked.eventId} appears twice in the append`);
    seenIds.add(checked.eventId);
    return checked;
  });
  assertAppendSize(prepared);
  return { streamId, events: prepared, options };
}

/** `,"prevHash":"<64 hex>","hash":"<64 hex>"`: what the store adds to each event's metadata JSON. */
const CHAIN_FIELDS_BYTES = 152;

/**
 * The whole append, counted as EventStoreDB counts it against MaxAppendSize (Event.SizeOnDisk): an append above it
 * is refused whole, and EventStoreDB cannot split one without losing its atomicity. Every adapter refuses the same
 * appends, so that moving the ledger to EventStoreDB never meets an append it cannot take.
 */
function assertAppendSize(events: readonly PreparedEvent[]): void {
  let bytes = 0;
  for (const event of events) {
    const metadataBytes = Buffer.byteLength(event.metadataJson, 'utf8') + CHAIN_FIELDS_BYTES;
    bytes += Buffer.byteLength(event.dataJson, 'utf8') + metadataBytes + 2 * event.type.length;
  }
  if (bytes > MAX_APPEND_BYTES) {
    throw new InvalidAppendError(
      `an append takes ${bytes} bytes as EventStoreDB counts them (data, metadata with the hash-chain fields, and ` +
        `twice the type, of every event), over the limit of ${MAX_APPEND_BYTES} bytes (1 MiB) for one append; ` +
        'append fewer events at once',
    );
  }
}

function prepareEvent(event: EventToAppend, index: number): PreparedEvent {
  if (typeof event.eventId !== 'string' || !UUID.test(event.eventId)) {
    throw new InvalidAppendError(`event ${index}: event id must be a UUID, got ${JSON.stringify(event.eventId)}`);
  }
  if (event.eventId === NIL_UUID) {
    throw new InvalidAppendError(`event ${index}: event id must not be the nil UUID (EventStoreDB refuses it)`);
  }
  assertName(`event ${index} type`, event.type, MAX_EVENT_TYPE_CHARS);
  if (event.type.startsWith('$')) {
    // EventStoreDB keeps `$` types for system events (links, metadata, tombstones): it stores one, and every later
    // read of the stream then meets an event that is not the ledger's.
    throw new InvalidAppendError(`event ${index} type must not start with $ (reserved for system events), got ${JSON.stringify(event.type)}`);
  }
  if (typeof event.metadata !== 'object' || event.metadata === null || Array.isArray(event.metadata)) {
    throw new InvalidAppendError(`event ${index}: metadata must be a JSON object`);
  }
  const dataJson = toJson(event.data, `event ${index} data`);
  const metadataJson = toJson(event.metadata, `event ${index} metadata`);
  const bytes = Buffer.byteLength(dataJson, 'utf8') + Buffer.byteLength(metadataJson, 'utf8');
  if (bytes > MAX_EVENT_BYTES) {
    throw new InvalidAppendError(
      `event ${index}: data and metadata take ${bytes} bytes of JSON, over the limit of ${MAX_EVENT_BYTES} bytes (1 MiB)`,
    );
  }
  const sent = JSON.parse(metadataJson) as MetadataToAppend & { prevHash?: unknown; hash?: unknown };
  // The store adds the hash-chain fields itself; any the caller sent are not part of what is hashed.
  const sentChain = Object.hasOwn(sent, 'prevHash') || Object.hasOwn(sent, 'hash');
  const metadata = sentChain ? metadataWithoutChain(sent as MetadataToAppend) : sent;
  return {
    // UUIDs are case-insensitive; one spelling keeps a retried id from passing the unique check as a new id.
    eventId: event.eventId.toLowerCase(),
    type: event.type,
    dataJson,
    data: JSON.parse(dataJson) as unknown,
    metadata,
    metadataJson: sentChain ? JSON.stringify(metadata) : metadataJson,
  };
}

/**
 * The metadata JSON a store keeps for an event: its metadata with `prevHash` and `hash` added last, the bytes
 * `JSON.stringify({ ...metadata, prevHash, hash })` gives, built from the JSON already encoded.
 */
export function storedMetadataJson(event: PreparedEvent, prevHash: string, hash: string): string {
  const chain = `"prevHash":${JSON.stringify(prevHash)},"hash":${JSON.stringify(hash)}}`;
  const json = event.metadataJson;
  return json === '{}' ? `{${chain}` : `${json.slice(0, -1)},${chain}`;
}

function toJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InvalidAppendError(`${what} is not JSON: ${(error as Error).message}`);
  }
  // JSON.stringify returns undefined for undefined, functions and symbols, which have no JSON form.
  if (json === undefined) throw new InvalidAppendError(`${what} is not JSON`);
  return json;
}

function assertExpectedRevision(options: AppendOptions): void {
  const expected: unknown = options?.expectedRevision;
  if (typeof expected === 'bigint') {
    if (expected < 0n) throw new InvalidAppendError(`expected revision must not be negative, got ${expected}`);
    return;
  }
  if (expected !== 'any' && expected !== 'no_stream' && expected !== 'stream_exists') {
    throw new InvalidAppendError(`expected revision must be 'any', 'no_stream', 'stream_exists' or a bigint`);
  }
}

/** Stream ids, types and keys: non-empty, at most `maxChars` characters (code points), no control characters. */
export function assertName(what: string, value: unknown, maxChars: number): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidAppendError(`${what} must be a non-empty string`);
  // value.length counts UTF-16 code units, so only strings longer than the limit need counting by code point.
  if (value.length > maxChars && [...value].length > maxChars) {
    throw new InvalidAppendError(`${what} is longer than the limit of ${maxChars} characters`);
  }
  if (UNSAFE_CHARACTERS.test(value)) {
    throw new InvalidAppendError(`${what} must not contain control characters or lone surrogates`);
  }
}

/** Checks the optional count and filter of a read; throws InvalidAppendError when malformed. */
export function assertReadOptions(maxCount: number | undefined, filter?: EventFilter, direction?: Direction): void {
  if (direction !== undefined && direction !== 'forwards' && direction !== 'backwards') {
    throw new InvalidAppendError(`direction must be 'forwards' or 'backwards', got ${String(direction)}`);
  }
  if (maxCount !== undefined && (!Number.isSafeInteger(maxCount) || maxCount < 0)) {
    throw new InvalidAppendError(`maxCount must be a non-negative integer, got ${String(maxCount)}`);
  }
  for (const list of [filter?.eventTypes, filter?.streamPrefixes]) {
    if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== 'string'))) {
      throw new InvalidAppendError('filter lists must be arrays of strings');
    }
  }
}

/** Checks a read bound (revision or position): a non-negative bigint. */
export function assertBound(what: string, value: bigint | undefined): void {
  if (value !== undefined && (typeof value !== 'bigint' || value < 0n)) {
    throw new InvalidAppendError(`${what} must be a non-negative bigint, got ${String(value)}`);
  }
}
