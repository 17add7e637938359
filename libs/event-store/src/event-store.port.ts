/**
 * The event store port: the ledger depends on this interface alone, so that the store holding its events is a
 * matter of configuration (LEDGER_EVENT_STORE), not of code. Every adapter (sqlite, postgres, esdb) implements it and passes the one
 * conformance suite in `testing/conformance.ts`.
 *
 * Revisions and positions are bigint: a stream's first event has revision 0n; the global position grows with
 * commit order and is never reused. Adapters may batch concurrent appends into one durable commit, but each
 * append keeps its own expected-revision check and its own success or failure.
 */
export const EVENT_STORE = Symbol('EVENT_STORE');

export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/**
 * Metadata the ledger writes on every event, so that each fact says who caused it, through which command and when;
 * plus the hash-chain fields the store adds, so that an edit of the stored log is evident (see hash-chain.ts).
 */
export interface EventMetadata {
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: { readonly id: string; readonly role: string };
  /** ISO-8601 UTC instant at which the ledger decided the command (the command's clock, not the disk's). */
  readonly recordedAt: string;
  readonly schemaVersion: number;
  /** Hash of the previous event in the same stream; 64 zeros for revision 0. Added by the store. */
  readonly prevHash: string;
  /** SHA-256 over the canonical encoding of this event (see hash-chain.ts). Added by the store. */
  readonly hash: string;
}

export type MetadataToAppend = Omit<EventMetadata, 'prevHash' | 'hash'>;

export interface EventToAppend {
  /** A UUID; deterministic from the command id (see event-ids.ts) so that a retried command is deduplicated. */
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: MetadataToAppend;
}

export interface RecordedEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

/** A durable idempotency record written in the same commit as the events it produced. */
export interface CommandRecordToWrite {
  /** The idempotency key, already scoped by the caller (for example by the API key's id). */
  readonly key: string;
  /** SHA-256 of the canonical request (route and body); a different hash under the same key is refused. */
  readonly requestHash: string;
}

export interface CommandRecord extends CommandRecordToWrite {
  readonly result: AppendResult;
}

export interface AppendOptions {
  readonly expectedRevision: ExpectedRevision;
  readonly command?: CommandRecordToWrite;
}

export interface AppendResult {
  readonly streamId: string;
  /** Revision of the last event appended (the stream's new revision). */
  readonly nextRevision: bigint;
  /** Global position of the last event appended. */
  readonly position: bigint;
  readonly eventIds: readonly string[];
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  /** Inclusive. Defaults to 0n forwards, or the last revision backwards. */
  readonly fromRevision?: bigint;
  readonly maxCount?: number;
  readonly direction?: Direction;
}

/** An event passes when it matches every list given; an empty list matches nothing, a missing one everything. */
export interface EventFilter {
  /** Exact event types to keep. */
  readonly eventTypes?: readonly string[];
  /** Stream id prefixes to keep, such as `account-`. */
  readonly streamPrefixes?: readonly string[];
}

export interface ReadAllOptions {
  /** Inclusive. Defaults to the start of the log. */
  readonly fromPosition?: bigint;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
  /**
   * For readers that rarely look at an event's id and metadata (projections never do): an adapter may then skip
   * reading them with the event and read them only when `eventId` or `metadata` is accessed. Events are immutable,
   * so what it reads then is the same. Such events may not be plain objects: spreading or serialising one can leave
   * those two fields out, and reading them after the store is closed throws.
   */
  readonly metadataOnAccess?: boolean;
}

export interface SubscribeOptions {
  /** Exclusive: the subscription delivers events after this position. Defaults to the start of the log. */
  readonly afterPosition?: bigint;
  readonly filter?: EventFilter;
}

/** Catch-up, then live, in global order, until closed. Iterating after close() ends the iteration. */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

export interface EventStore {
  append(streamId: string, events: readonly EventToAppend[], options: AppendOptions): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  subscribe(options?: SubscribeOptions): Subscription;
  /** The current revision of a stream, or undefined when it has no events. */
  streamRevision(streamId: string): Promise<bigint | undefined>;
  /** The idempotency record stored under a key by an earlier append, if any. */
  findCommand(key: string): Promise<CommandRecord | undefined>;
  /** The position of the last event in the log, or undefined when the log is empty. */
  headPosition(): Promise<bigint | undefined>;
  /**
   * Optional, for adapters that can tell cheaply: a token that is the same on two calls only if nothing was
   * appended to the stream in between, by any process. Lets the ledger decide on a kept fold of a stream (the
   * platform's halt and hold policy) without reading the stream before every command. Without it, or when it
   * returns undefined, callers read the stream.
   */
  streamChangeToken?(streamId: string): string | undefined;
  /**
   * Optional, for adapters that can prove it without a read: the stream's current revision, when this store knows
   * it and can tell that no process has appended to the stream since (SQLite: the heads of streams its own
   * connection wrote, while no other connection has committed). Undefined means "not known": read the stream.
   * Lets the ledger decide on a kept fold of a stream it writes itself, and still never on a stale one.
   */
  knownStreamRevision?(streamId: string): bigint | undefined;
  /**
   * Optional, for adapters that group appends into one durable commit: calls the observer after each commit (not
   * per append), for the operator's metrics. One observer at a time; a later call replaces it.
   */
  observeCommits?(observer: CommitObserver): void;
  /** What an adapter can tell an operator about its connection (EventStoreDB: the measured clock skew), for /health. */
  health?(): Readonly<Record<string, number | string | null | undefined>>;
  close(): Promise<void>;
}

/**
 * Told about each durable commit: how many appends and events it held, how long its transaction took, and how long
 * of that the final COMMIT took (where the fsync happens). Called synchronously: it must be cheap and never throw.
 */
export type CommitObserver = (appends: number, events: number, transactionMs: number, commitMs: number) => void;
