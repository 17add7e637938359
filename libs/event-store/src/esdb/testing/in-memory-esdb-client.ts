import { Readable } from 'node:stream';
import {
  DeadlineExceededError,
  END,
  MaxAppendSizeExceededError,
  NotLeaderError,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type AppendResult,
  type EventData,
  type Filter,
  type ReadPosition,
  type ResolvedEvent,
  type StreamingRead,
} from '../esdb-client';
import type { EsdbClient } from '../esdb-event-store';

/** The server's default MaxAppendSize (1 MiB). */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;
/** The client's default deadline (ms), which it turns into an absolute time on its own clock. */
export const DEFAULT_CLIENT_DEADLINE_MS = 10_000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
/** The revision a tombstone takes (EventNumber.DeletedStream: the largest signed 64-bit integer). */
const TOMBSTONE_REVISION = 2n ** 63n - 1n;

export interface InMemoryEsdbServerOptions {
  /** MaxAppendSize: data + metadata + 2 × type length of all the events of one append. Default 1 MiB. */
  readonly maxAppendSize?: number;
  /** Event ids an ANY or STREAM_EXISTS append is checked against (the server's bounded cache of recent writes). */
  readonly idempotencyCacheSize?: number;
  /** How far the server's clock is ahead of this machine's (negative: behind). */
  readonly clockSkewMs?: number;
  /** Records a subscription's server side holds for a client that does not read (back-pressure). */
  readonly subscriptionBufferSize?: number;
}

/**
 * An in-memory stand-in for an EventStoreDB server behind the client, for the adapter's tests. It models what the
 * adapter relies on as the server implements it (IndexWriter.CheckCommit, AllReader, the gRPC Streams service), and
 * is strict where the server is dangerous:
 *
 * - Expected revisions: an exact revision (NO_STREAM is -1) behind the stream is idempotent when the ids at the
 *   following revisions are the ids sent, a wrong expected version otherwise. ANY and STREAM_EXISTS look the ids up
 *   in a bounded cache of recent writes, which a restart empties. Event ids are not unique across streams.
 * - An append is refused whole when data + metadata + 2 × type length of its events exceed MaxAppendSize; the nil
 *   UUID and an empty type are refused as a bad request (the client reports both as UnknownError).
 * - The client's deadline is absolute, on the client's clock; the server compares it with its own.
 * - Positions are byte offsets with gaps; a read or subscription from a position that is not the start of a record
 *   fails. Reads from a position are inclusive; a subscription from a position is exclusive (START is inclusive).
 * - The log holds what a real one holds: system events in `$` streams, `$metadata` events in `$$` streams, `$>`
 *   links, `$streamDeleted` tombstones. A soft delete sets `$tb`: reads find no stream, and an append that expects
 *   no stream is accepted and lands after the deleted events. A tombstone refuses every later read and append.
 * - Subscriptions emit confirmation and caughtUp, and push only as fast as the client reads.
 * - Failures are injectable on appends (before or after writing), reads (after some records), and subscriptions;
 *   an election makes every request fail with NotLeader (and ends subscriptions with it) until a leader is back.
 */
export class InMemoryEsdbServer {
  readonly maxAppendSize: number;
  /** Reads refused because they asked for a position inside a record (a probe costs one of these). */
  invalidReads = 0;
  /** The positions clients read or subscribed from (refused reads aside), for assertions. */
  readonly readPositions: ReadPosition[] = [];
  readonly log: StoredRecord[] = [];
  readonly subscriptions = new Set<FakeSubscription>();
  /** Records sent to clients by reads (not subscriptions): what a resume or a scan costs. */
  recordsRead = 0;
  /** Append requests received, including refused ones. */
  appendRequests = 0;
  clockSkewMs: number;
  private readonly idempotencyCacheSize: number;
  private readonly subscriptionBufferSize: number;
  private readonly streams = new Map<string, StreamState>();
  private readonly positionIndex = new Map<bigint, number>();
  private recentIds = new Map<string, { readonly streamId: string; readonly revision: number }>();
  private nextPosition = 1_024n;
  private appendFaults: AppendFault[] = [];
  private readFaults: ReadFault[] = [];
  private subscriptionFaults: ReadFault[] = [];
  private beforeAppend: (() => Promise<void>)[] = [];
  private electing = false;

  constructor(options: InMemoryEsdbServerOptions = {}) {
    this.maxAppendSize = options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
    this.idempotencyCacheSize = options.idempotencyCacheSize ?? 10_000;
    this.clockSkewMs = options.clockSkewMs ?? 0;
    this.subscriptionBufferSize = options.subscriptionBufferSize ?? 64;
    this.writeSystemEvent('$ProjectionsInitialized');
  }

  /** A new connection to this server. */
  client(options: { readonly defaultDeadlineMs?: number } = {}): InMemoryEsdbClient {
    return new InMemoryEsdbClient(this, options.defaultDeadlineMs);
  }

  // ---- test controls --------------------------------------------------------------------------------------------

  /** Appends an event to a system stream, as the server's statistics do every few seconds. */
  writeSystemEvent(type = '$statsCollected', streamId = '$stats-127.0.0.1:2113'): void {
    this.store(streamId, [{ id: crypto.randomUUID(), type, data: { at: Date.now() }, metadata: undefined }]);
  }

  /** Writes a `$>` link to `target` into `streamId`, as a projection or a user linking events does. */
  writeLink(streamId: string, target: StoredRecord): void {
    this.store(streamId, [
      { id: crypto.randomUUID(), type: '$>', data: `${target.revision}@${target.streamId}`, metadata: undefined },
    ]);
  }

  /** Writes stream metadata: a `$metadata` event in the `$$` stream, which $all shows like any other record. */
  setStreamMetadata(streamId: string, metadata: Record<string, unknown>): void {
    this.store(`$$${streamId}`, [{ id: crypto.randomUUID(), type: '$metadata', data: metadata, metadata: undefined }]);
  }

  /** A soft delete: `$tb` past the last event. The events stay in $all until a scavenge. */
  softDelete(streamId: string): void {
    const state = this.streams.get(streamId);
    if (state === undefined) throw new StreamNotFoundError(undefined, streamId);
    state.truncateBefore = state.records.length;
    this.setStreamMetadata(streamId, { $tb: state.records.length });
  }

  /** A hard delete: a `$streamDeleted` tombstone; the stream can never be read or written again. */
  tombstone(streamId: string): void {
    const state = this.stateOf(streamId);
    state.tombstoned = true;
    const record = this.record(streamId, { id: crypto.randomUUID(), type: '$streamDeleted', data: {}, metadata: undefined }, -1);
    this.log.push(record);
    this.positionIndex.set(record.position, this.log.length - 1);
    this.offer([record]);
  }

  /**
   * The next append fails with `error`; `afterWriting` writes it first (an acknowledgement lost on the way back);
   * `then` runs as it fails (a leader lost right after the write, say).
   */
  failNextAppend(
    error: Error,
    options: { readonly afterWriting?: boolean; readonly stream?: string; readonly then?: () => void } = {},
  ): void {
    this.appendFaults.push({ error, afterWriting: options.afterWriting ?? false, stream: options.stream, then: options.then });
  }

  /** Forgets every injected failure that has not happened yet. */
  clearFaults(): void {
    this.appendFaults = [];
    this.readFaults = [];
    this.subscriptionFaults = [];
  }

  /** The next read (of `stream`, or of $all for '$all') fails with `error` after sending `afterRecords` records. */
  failNextRead(error: Error, options: { readonly afterRecords?: number; readonly stream?: string } = {}): void {
    this.readFaults.push({ error, afterRecords: options.afterRecords ?? 0, stream: options.stream });
  }

  /** The next subscription fails with `error` after delivering `afterRecords` records (NotLeader mid-stream, say). */
  failNextSubscription(error: Error, options: { readonly afterRecords?: number } = {}): void {
    this.subscriptionFaults.push({ error, afterRecords: options.afterRecords ?? 0, stream: undefined });
  }

  /** Runs `action` when the next append request arrives, before it is processed (another writer getting in first). */
  beforeNextAppend(action: () => Promise<void>): void {
    this.beforeAppend.push(action);
  }

  /** Ends every open subscription with `error`, as a dropped connection or a leader change does. */
  dropSubscriptions(error: Error = new UnavailableError(undefined, 'connection lost')): void {
    for (const subscription of this.subscriptions) subscription.destroy(error);
    this.subscriptions.clear();
  }

  /** The leader is lost: until `endElection`, every request fails with NotLeader, and subscriptions end with it. */
  startElection(): void {
    this.electing = true;
    this.dropSubscriptions(notLeaderError());
  }

  endElection(): void {
    this.electing = false;
  }

  /** An election that lasts `durationMs`. */
  async failover(durationMs: number): Promise<void> {
    this.startElection();
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    this.endElection();
  }

  /** A node restart: connections drop, and the in-memory cache of recent writes is gone. The log stays. */
  restart(): void {
    this.recentIds = new Map();
    this.dropSubscriptions(new UnavailableError(undefined, 'node restarted'));
  }

  /** Every record of a physical stream, as stored (deleted ones included). */
  storedEvents(streamId: string): readonly StoredRecord[] {
    return this.streams.get(streamId)?.records ?? [];
  }

  // ---- requests -------------------------------------------------------------------------------------------------

  async appendToStream(streamName: string, event: EventData | EventData[], options: AppendRequest): Promise<AppendResult> {
    this.appendRequests += 1;
    const events = Array.isArray(event) ? event : [event];
    await this.beforeAppend.shift()?.();
    this.assertLeader();
    // The deadline the client computed on its own clock, compared with the server's (BatchAppend).
    if (Date.now() + this.clockSkewMs > options.deadlineAt) throw new DeadlineExceededError();
    const fault = this.takeFault(this.appendFaults, streamName);
    if (fault !== undefined && !fault.afterWriting) {
      fault.then?.();
      throw fault.error;
    }
    this.assertWellFormed(events);
    const result = this.checkAndWrite(streamName, events, options.expectedRevision ?? 'any');
    if (fault !== undefined) {
      fault.then?.();
      throw fault.error;
    }
    return result;
  }

  readStream(streamName: string, options: ReadStreamRequest = {}): StreamingRead<ResolvedEvent> {
    const refusal = this.refusalToRead(streamName);
    if (refusal !== undefined) return streamingRead(failing(refusal));
    const state = this.streams.get(streamName)!;
    const stream = state.records;
    const backwards = options.direction === 'backwards';
    const maxCount = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const from = options.fromRevision ?? (backwards ? END : START);
    const start = from === START ? 0 : from === END ? stream.length - 1 : Number(from);
    const visible = (record: StoredRecord): boolean => record.revision >= state.truncateBefore;
    const selected = backwards
      ? stream
          .slice(0, Math.min(start, stream.length - 1) + 1)
          .reverse()
          .filter(visible)
          .slice(0, maxCount)
      : stream.slice(Math.max(start, state.truncateBefore), start + maxCount);
    return this.served(selected, streamName);
  }

  readAll(options: ReadAllRequest = {}): StreamingRead<AllStreamResolvedEvent> {
    if (this.electing) return streamingRead(failing(notLeaderError()));
    const backwards = options.direction === 'backwards';
    const from = options.fromPosition ?? (backwards ? END : START);
    const maxCount = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const index = this.indexOf(from);
    if (index === undefined) {
      this.invalidReads += 1;
      return streamingRead(failing(invalidPosition()));
    }
    this.readPositions.push(from);
    const selected = backwards
      ? this.log.slice(0, index).reverse().slice(0, maxCount)
      : this.log.slice(index, index + maxCount);
    return this.served(selected, '$all');
  }

  subscribeToAll(options: { fromPosition?: ReadPosition; filter?: Filter } = {}): AllStreamSubscription {
    const from = options.fromPosition ?? START;
    this.readPositions.push(from);
    const fault = this.takeFault(this.subscriptionFaults, undefined);
    const subscription: FakeSubscription = new FakeSubscription(
      options.filter,
      this.subscriptionBufferSize,
      fault,
      () => this.subscriptions.delete(subscription),
    );
    const index = this.indexOf(from);
    const refusal = this.electing ? notLeaderError() : index === undefined ? invalidPosition() : undefined;
    if (refusal !== undefined) {
      process.nextTick(() => subscription.destroy(refusal));
      return subscription as unknown as AllStreamSubscription;
    }
    // A subscription delivers the events after the position it starts from.
    const first = from === START ? 0 : Math.min(index! + 1, this.log.length);
    subscription.start(this.log.slice(first));
    this.subscriptions.add(subscription);
    return subscription as unknown as AllStreamSubscription;
  }

  // ---- the server -----------------------------------------------------------------------------------------------

  private assertLeader(): void {
    if (this.electing) throw notLeaderError();
  }

  private assertWellFormed(events: readonly EventData[]): void {
    let size = 0;
    for (const proposed of events) {
      if (proposed.id === NIL_UUID) throw new UnknownError(undefined, 'Bad request: the event id must not be empty');
      if (proposed.type === '') throw new UnknownError(undefined, 'Bad request: the event type must not be empty');
      // Event.SizeOnDisk: the data and metadata bytes, and the type counted as two bytes a character.
      size += byteLength(proposed.data) + byteLength(proposed.metadata) + proposed.type.length * 2;
    }
    if (size > this.maxAppendSize) throw MaxAppendSizeExceededError.fromMaxAppendSize(this.maxAppendSize);
  }

  private refusalToRead(streamName: string): Error | undefined {
    if (this.electing) return notLeaderError();
    const state = this.streams.get(streamName);
    if (state?.tombstoned === true) return StreamDeletedError.fromStreamName(streamName);
    if (state === undefined || state.truncateBefore >= state.records.length) {
      return new StreamNotFoundError(undefined, streamName);
    }
    return undefined;
  }

  private checkAndWrite(streamName: string, events: readonly EventData[], expected: AppendExpectedRevision): AppendResult {
    const state = this.stateOf(streamName);
    if (state.tombstoned) throw StreamDeletedError.fromStreamName(streamName);
    const softDeleted = state.records.length > 0 && state.truncateBefore >= state.records.length;
    const current = state.records.length - 1;
    const refuse = (): never => {
      throw new WrongExpectedVersionError(undefined, {
        streamName,
        expected,
        current: current < 0 || softDeleted ? 'no_stream' : BigInt(current),
      });
    };
    if (expected === 'stream_exists' && (current < 0 || softDeleted)) refuse();
    if (expected === 'any' || expected === 'stream_exists') {
      const cached = events.map((proposed) => this.recentIds.get(proposed.id));
      const first = cached[0];
      if (first === undefined || first.streamId !== streamName) return this.write(streamName, events);
      if (cached.some((hit, index) => hit?.streamId !== streamName || hit.revision !== first.revision + index))
        refuse();
      return this.acknowledge(streamName, first.revision + events.length - 1);
    }
    // A soft-deleted stream counts as no stream: the append lands after the deleted events.
    if (expected === 'no_stream' && softDeleted) return this.write(streamName, events);
    const expectedRevision = expected === 'no_stream' ? -1 : Number(expected);
    if (expectedRevision < current) {
      const matches = events.every((proposed, index) => state.records[expectedRevision + 1 + index]?.id === proposed.id);
      if (!matches) refuse();
      return this.acknowledge(streamName, expectedRevision + events.length);
    }
    if (expectedRevision > current) refuse();
    return this.write(streamName, events);
  }

  private write(streamName: string, events: readonly EventData[]): AppendResult {
    const written = this.store(streamName, events);
    return this.acknowledge(streamName, written[written.length - 1]!.revision);
  }

  private acknowledge(streamName: string, revision: number): AppendResult {
    const record = this.streams.get(streamName)!.records[revision]!;
    return {
      success: true,
      nextExpectedRevision: BigInt(revision),
      position: { commit: record.position, prepare: record.position },
    };
  }

  private stateOf(streamId: string): StreamState {
    let state = this.streams.get(streamId);
    if (state === undefined) {
      state = { records: [], truncateBefore: 0, tombstoned: false };
      this.streams.set(streamId, state);
    }
    return state;
  }

  private store(streamId: string, events: readonly Pick<EventData, 'id' | 'type' | 'data' | 'metadata'>[]): StoredRecord[] {
    const state = this.stateOf(streamId);
    const written = events.map((proposed) => {
      const record = this.record(streamId, proposed, state.records.length);
      state.records.push(record);
      this.log.push(record);
      this.positionIndex.set(record.position, this.log.length - 1);
      this.remember(proposed.id, { streamId, revision: record.revision });
      return record;
    });
    this.offer(written);
    return written;
  }

  private record(streamId: string, proposed: Pick<EventData, 'id' | 'type' | 'data' | 'metadata'>, revision: number): StoredRecord {
    const dataJson = JSON.stringify(proposed.data);
    const metadataJson = proposed.metadata === undefined ? undefined : JSON.stringify(proposed.metadata);
    const record: StoredRecord = {
      streamId,
      id: proposed.id,
      revision,
      type: proposed.type,
      dataJson,
      metadataJson,
      position: this.nextPosition,
      created: new Date(Date.now() + this.clockSkewMs),
    };
    // A record takes its bytes in the log: the next one starts well after it, never at position + 1.
    this.nextPosition += BigInt(
      96 + Buffer.byteLength(streamId) + Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson ?? ''),
    );
    return record;
  }

  /** The bounded cache ANY appends are checked against: the oldest id goes when it is full. */
  private remember(id: string, at: { readonly streamId: string; readonly revision: number }): void {
    this.recentIds.delete(id);
    this.recentIds.set(id, at);
    if (this.recentIds.size > this.idempotencyCacheSize) this.recentIds.delete(this.recentIds.keys().next().value!);
  }

  private offer(records: readonly StoredRecord[]): void {
    for (const subscription of this.subscriptions) subscription.offer(records);
  }

  /** A read's records, counted, with an injected failure part-way if one is due. */
  private served<T>(selected: readonly StoredRecord[], stream: string): StreamingRead<T> {
    const fault = this.takeFault(this.readFaults, stream);
    const records = fault === undefined ? selected : selected.slice(0, fault.afterRecords);
    // Counted as the client pulls them: gRPC flow control stops the server when a reader stops early.
    const server = this;
    const sent = (async function* () {
      for (const record of records) {
        server.recordsRead += 1;
        yield toResolved(record) as T;
      }
      if (fault !== undefined) throw fault.error;
    })();
    return streamingRead(sent);
  }

  /** The index in the log a read from `position` starts at; undefined for a position inside a record. */
  private indexOf(position: ReadPosition): number | undefined {
    if (position === START) return 0;
    if (position === END) return this.log.length;
    if (position.commit !== position.prepare) return undefined;
    if (position.commit === this.nextPosition) return this.log.length;
    return this.positionIndex.get(position.commit);
  }

  private takeFault<F extends { readonly stream: string | undefined }>(faults: F[], stream: string | undefined): F | undefined {
    const index = faults.findIndex((fault) => fault.stream === undefined || fault.stream === stream);
    return index === -1 ? undefined : faults.splice(index, 1)[0];
  }
}

/** One connection to an InMemoryEsdbServer, standing in for EventStoreDBClient. */
export class InMemoryEsdbClient implements EsdbClient {
  private readonly subscriptions = new Set<AllStreamSubscription>();
  private disposed = false;

  constructor(
    readonly server: InMemoryEsdbServer = new InMemoryEsdbServer(),
    private readonly defaultDeadlineMs = DEFAULT_CLIENT_DEADLINE_MS,
  ) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  appendToStream(
    streamName: string,
    event: EventData | EventData[],
    options: { expectedRevision?: AppendExpectedRevision; deadline?: number } = {},
  ): Promise<AppendResult> {
    this.assertOpen();
    // As the real client does: an absolute deadline on this machine's clock, sent with the request.
    const deadlineAt = Date.now() + (options.deadline ?? this.defaultDeadlineMs);
    return this.server.appendToStream(streamName, event, { expectedRevision: options.expectedRevision, deadlineAt });
  }

  readStream(streamName: string, options: ReadStreamRequest = {}): StreamingRead<ResolvedEvent> {
    this.assertOpen();
    return this.server.readStream(streamName, options);
  }

  readAll(options: ReadAllRequest = {}): StreamingRead<AllStreamResolvedEvent> {
    this.assertOpen();
    return this.server.readAll(options);
  }

  subscribeToAll(options: { fromPosition?: ReadPosition; filter?: Filter } = {}): AllStreamSubscription {
    this.assertOpen();
    const subscription = this.server.subscribeToAll(options);
    this.subscriptions.add(subscription);
    return subscription;
  }

  dispose = async (): Promise<void> => {
    this.disposed = true;
    for (const subscription of this.subscriptions) subscription.destroy();
    this.subscriptions.clear();
  };

  private assertOpen(): void {
    if (this.disposed) throw new Error('the EventStoreDB client was disposed');
  }
}

export interface StoredRecord {
  readonly streamId: string;
  readonly id: string;
  /** -1 for a tombstone (which the server reports at the largest revision). */
  readonly revision: number;
  readonly type: string;
  readonly dataJson: string;
  readonly metadataJson: string | undefined;
  readonly position: bigint;
  /** The server's clock when it wrote the record. */
  readonly created: Date;
}

interface StreamState {
  readonly records: StoredRecord[];
  /** `$tb`: revisions below it are deleted (a soft delete sets it past the last one). */
  truncateBefore: number;
  tombstoned: boolean;
}

interface AppendRequest {
  readonly expectedRevision?: AppendExpectedRevision;
  /** Milliseconds since the epoch, on the client's clock. */
  readonly deadlineAt: number;
}

interface AppendFault {
  readonly error: Error;
  readonly afterWriting: boolean;
  readonly stream: string | undefined;
  readonly then: (() => void) | undefined;
}

interface ReadFault {
  readonly error: Error;
  readonly afterRecords: number;
  readonly stream: string | undefined;
}

interface ReadStreamRequest {
  readonly fromRevision?: typeof START | typeof END | bigint;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number | bigint;
}

interface ReadAllRequest {
  readonly fromPosition?: ReadPosition;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number | bigint;
}

/** The error a node that is not (or no longer) the leader answers with; it names the leader it knows of. */
export function notLeaderError(host = 'eventstore2', port = 2113): NotLeaderError {
  const metadata = { 'leader-endpoint-host': host, 'leader-endpoint-port': String(port) };
  const serviceError = { code: 9, details: 'Leader info available', message: 'not leader', metadata: { getMap: () => metadata } };
  return new NotLeaderError(serviceError as unknown as ConstructorParameters<typeof NotLeaderError>[0]);
}

function invalidPosition(): UnknownError {
  return new UnknownError(undefined, 'Trying to read from an invalid position.');
}

function byteLength(value: unknown): number {
  if (value === undefined) return 0;
  if (value instanceof Uint8Array) return value.byteLength;
  return Buffer.byteLength(JSON.stringify(value));
}

/** A record as the client hands it out: fresh objects parsed from the stored JSON. */
function toResolved(record: StoredRecord): AllStreamResolvedEvent {
  const position = { commit: record.position, prepare: record.position };
  return {
    event: {
      streamId: record.streamId,
      id: record.id,
      revision: record.revision < 0 ? TOMBSTONE_REVISION : BigInt(record.revision),
      type: record.type,
      isJson: true,
      data: JSON.parse(record.dataJson) as Record<string, unknown>,
      metadata:
        record.metadataJson === undefined ? undefined : (JSON.parse(record.metadataJson) as Record<string, unknown>),
      created: record.created,
      position,
    },
    commitPosition: record.position,
  };
}

function matches(filter: Filter | undefined, record: StoredRecord): boolean {
  if (filter === undefined) return true;
  const subject = filter.filterOn === 'streamName' ? record.streamId : record.type;
  if ('regex' in filter) return new RegExp(filter.regex).test(subject);
  return filter.prefixes.some((prefix) => subject.startsWith(prefix));
}

/**
 * A server subscription as the client shows it: a Readable that emits `confirmation` once the server has accepted
 * it and `caughtUp` once the history is delivered, and that is pushed to only as fast as it is read. The server
 * side holds at most `bufferSize` records for a slow reader; beyond that it drops the subscription, as a server
 * whose live queue overflows does, and the client must subscribe again from its last position.
 */
class FakeSubscription extends Readable {
  private readonly pending: StoredRecord[] = [];
  private catchingUp = 0;
  private delivered = 0;
  /** False once the Readable's buffer is full, until it asks for more. */
  private wanted = true;

  constructor(
    private readonly serverFilter: Filter | undefined,
    private readonly bufferSize: number,
    private readonly fault: ReadFault | undefined,
    private readonly onEnd: () => void,
  ) {
    super({ objectMode: true, highWaterMark: 16 });
  }

  start(history: readonly StoredRecord[]): void {
    const wanted = history.filter((record) => matches(this.serverFilter, record));
    this.pending.push(...wanted);
    this.catchingUp = wanted.length;
    process.nextTick(() => {
      this.emit('confirmation');
      this.flush();
    });
  }

  override _read(): void {
    this.wanted = true;
    this.flush();
  }

  offer(records: readonly StoredRecord[]): void {
    if (this.destroyed) return;
    this.pending.push(...records.filter((record) => matches(this.serverFilter, record)));
    if (this.pending.length - this.catchingUp > this.bufferSize) {
      this.destroy(new UnavailableError(undefined, 'subscription dropped: the client is too slow'));
      this.onEnd();
      return;
    }
    this.flush();
  }

  async unsubscribe(): Promise<void> {
    this.onEnd();
    this.destroy();
  }

  private flush(): void {
    while (!this.destroyed && this.wanted && this.pending.length > 0) {
      if (this.fault !== undefined && this.delivered >= this.fault.afterRecords) {
        this.destroy(this.fault.error);
        this.onEnd();
        return;
      }
      const record = this.pending.shift()!;
      this.delivered += 1;
      const more = this.push(toResolved(record));
      if (this.catchingUp > 0) {
        this.catchingUp -= 1;
        if (this.catchingUp === 0) this.emit('caughtUp');
      }
      if (!more) {
        this.wanted = false;
        return;
      }
    }
    if (this.fault !== undefined && this.delivered >= this.fault.afterRecords && !this.destroyed) {
      this.destroy(this.fault.error);
      this.onEnd();
    }
  }
}

function failing<T>(error: Error): AsyncGenerator<T> {
  return (async function* () {
    yield* [];
    throw error;
  })();
}

function streamingRead<T>(items: AsyncGenerator<T>): StreamingRead<T> {
  const readable = Readable.from(items, { objectMode: true }) as Readable & { cancel?: () => Promise<void> };
  readable.cancel = async () => {
    readable.destroy();
  };
  return readable as unknown as StreamingRead<T>;
}
