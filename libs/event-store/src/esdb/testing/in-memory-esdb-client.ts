import { Readable } from 'node:stream';
import {
  END,
  MaxAppendSizeExceededError,
  START,
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
} from '@eventstore/db-client';
import type { EsdbClient } from '../esdb-event-store';

/**
 * An in-memory stand-in for an EventStoreDB server behind the client, for the adapter's tests. It models the
 * behaviours the adapter relies on, as the server implements them (EventStore.Core IndexWriter.CheckCommit and
 * AllReader), and is strict where the server is dangerous:
 *
 * - Expected revisions: an exact revision (NO_STREAM is -1) behind the stream is idempotent when the ids at the
 *   following revisions are the ids sent, a wrong expected version otherwise; ANY and STREAM_EXISTS look the ids
 *   up in a cache of written ids. Event ids are not unique across streams.
 * - Positions are byte offsets with gaps between records; a read or subscription from a position that is not the
 *   start of a record fails (the real server fails or, in older versions, silently returns nothing).
 * - The log holds system events in `$` streams, as a real one does.
 * - The maximum append size counts the data bytes of one append.
 *
 * It does not model replication, leader changes or timing; tests inject failures instead.
 */
export class InMemoryEsdbServer {
  readonly maxAppendSize: number;
  /** The positions clients asked to read or subscribe from, for assertions. */
  readonly readPositions: ReadPosition[] = [];
  readonly log: StoredRecord[] = [];
  private readonly streams = new Map<string, StoredRecord[]>();
  private readonly writtenIds = new Map<string, { readonly streamId: string; readonly revision: number }>();
  readonly subscriptions = new Set<FakeSubscription>();
  private nextPosition = 1_024n;
  private appendFaults: AppendFault[] = [];
  private beforeAppend: (() => Promise<void>)[] = [];

  constructor(options: { readonly maxAppendSize?: number } = {}) {
    this.maxAppendSize = options.maxAppendSize ?? 1_048_576;
    this.writeSystemEvent('$ProjectionsInitialized');
  }

  /** A new connection to this server. */
  client(): InMemoryEsdbClient {
    return new InMemoryEsdbClient(this);
  }

  // ---- test controls --------------------------------------------------------------------------------------------

  /** Appends an event to a system stream, as the server's statistics do every few seconds. */
  writeSystemEvent(type = '$statsCollected', streamId = '$stats-127.0.0.1:2113'): void {
    this.store(streamId, [{ id: crypto.randomUUID(), type, data: { at: Date.now() }, metadata: undefined }]);
  }

  /** The next append fails with `error`; `afterWriting` writes it first (an acknowledgement lost on the way back). */
  failNextAppend(error: Error, options: { readonly afterWriting?: boolean; readonly stream?: string } = {}): void {
    this.appendFaults.push({ error, afterWriting: options.afterWriting ?? false, stream: options.stream });
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

  /** Every record of a physical stream, as stored. */
  storedEvents(streamId: string): readonly StoredRecord[] {
    return this.streams.get(streamId) ?? [];
  }

  // ---- requests -------------------------------------------------------------------------------------------------

  async appendToStream(
    streamName: string,
    event: EventData | EventData[],
    options: { expectedRevision?: AppendExpectedRevision } = {},
  ): Promise<AppendResult> {
    const events = Array.isArray(event) ? event : [event];
    await this.beforeAppend.shift()?.();
    const fault = this.takeFault(streamName);
    if (fault !== undefined && !fault.afterWriting) throw fault.error;
    const size = events.reduce((total, proposed) => total + Buffer.byteLength(JSON.stringify(proposed.data)), 0);
    if (size > this.maxAppendSize) throw MaxAppendSizeExceededError.fromMaxAppendSize(this.maxAppendSize);
    const result = this.checkAndWrite(streamName, events, options.expectedRevision ?? 'any');
    if (fault !== undefined) throw fault.error;
    return result;
  }

  readStream(streamName: string, options: ReadStreamRequest = {}): StreamingRead<ResolvedEvent> {
    const stream = this.streams.get(streamName);
    if (stream === undefined) return streamingRead(failing(new StreamNotFoundError(undefined, streamName)));
    const backwards = options.direction === 'backwards';
    const maxCount = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const from = options.fromRevision ?? (backwards ? END : START);
    const start = from === START ? 0 : from === END ? stream.length - 1 : Number(from);
    const selected = backwards
      ? stream
          .slice(0, Math.min(start, stream.length - 1) + 1)
          .reverse()
          .slice(0, maxCount)
      : stream.slice(start, start + maxCount);
    return streamingRead(fromArray(selected.map(toResolved)));
  }

  readAll(options: ReadAllRequest = {}): StreamingRead<AllStreamResolvedEvent> {
    const backwards = options.direction === 'backwards';
    const from = options.fromPosition ?? (backwards ? END : START);
    this.readPositions.push(from);
    const maxCount = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const index = this.indexOf(from);
    if (index === undefined)
      return streamingRead(failing(new UnknownError(undefined, 'Trying to read from an invalid position.')));
    const selected = backwards
      ? this.log.slice(0, index).reverse().slice(0, maxCount)
      : this.log.slice(index, index + maxCount);
    return streamingRead(fromArray(selected.map(toResolved)));
  }

  subscribeToAll(options: { fromPosition?: ReadPosition; filter?: Filter } = {}): AllStreamSubscription {
    const from = options.fromPosition ?? START;
    this.readPositions.push(from);
    const subscription: FakeSubscription = new FakeSubscription(options.filter, () =>
      this.subscriptions.delete(subscription),
    );
    const index = this.indexOf(from);
    if (index === undefined) {
      process.nextTick(() =>
        subscription.destroy(new UnknownError(undefined, 'Trying to read from an invalid position.')),
      );
      return subscription as unknown as AllStreamSubscription;
    }
    // A subscription delivers the events after the position it starts from.
    const first = from === START ? 0 : Math.min(index + 1, this.log.length);
    for (const record of this.log.slice(first)) subscription.offer(record);
    this.subscriptions.add(subscription);
    return subscription as unknown as AllStreamSubscription;
  }

  // ---- the server -----------------------------------------------------------------------------------------------

  private checkAndWrite(
    streamName: string,
    events: readonly EventData[],
    expected: AppendExpectedRevision,
  ): AppendResult {
    const stream = this.streams.get(streamName) ?? [];
    const current = stream.length - 1;
    const refuse = (): never => {
      throw new WrongExpectedVersionError(undefined, {
        streamName,
        expected,
        current: current < 0 ? 'no_stream' : BigInt(current),
      });
    };
    if (expected === 'stream_exists' && current < 0) refuse();
    if (expected === 'any' || expected === 'stream_exists') {
      const cached = events.map((proposed) => this.writtenIds.get(proposed.id));
      const first = cached[0];
      if (first === undefined || first.streamId !== streamName) return this.write(streamName, events);
      if (cached.some((hit, index) => hit?.streamId !== streamName || hit.revision !== first.revision + index))
        refuse();
      return this.acknowledge(streamName, first.revision + events.length - 1);
    }
    const expectedRevision = expected === 'no_stream' ? -1 : Number(expected);
    if (expectedRevision < current) {
      const matches = events.every((proposed, index) => stream[expectedRevision + 1 + index]?.id === proposed.id);
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
    const record = this.streams.get(streamName)![revision]!;
    return {
      success: true,
      nextExpectedRevision: BigInt(revision),
      position: { commit: record.position, prepare: record.position },
    };
  }

  private store(
    streamId: string,
    events: readonly Pick<EventData, 'id' | 'type' | 'data' | 'metadata'>[],
  ): StoredRecord[] {
    const stream = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, stream);
    const written = events.map((proposed) => {
      const dataJson = JSON.stringify(proposed.data);
      const metadataJson = proposed.metadata === undefined ? undefined : JSON.stringify(proposed.metadata);
      const record: StoredRecord = {
        streamId,
        id: proposed.id,
        revision: stream.length,
        type: proposed.type,
        dataJson,
        metadataJson,
        position: this.nextPosition,
      };
      // A record takes its bytes in the log: the next one starts well after it, never at position + 1.
      this.nextPosition += BigInt(
        96 + Buffer.byteLength(streamId) + Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson ?? ''),
      );
      stream.push(record);
      this.log.push(record);
      this.writtenIds.set(proposed.id, { streamId, revision: record.revision });
      return record;
    });
    for (const subscription of this.subscriptions) for (const record of written) subscription.offer(record);
    return written;
  }

  /** The index in the log a read from `position` starts at; undefined for a position inside a record. */
  private indexOf(position: ReadPosition): number | undefined {
    if (position === START) return 0;
    if (position === END) return this.log.length;
    if (position.commit !== position.prepare) return undefined;
    if (position.commit === this.nextPosition) return this.log.length;
    const index = this.log.findIndex((record) => record.position === position.commit);
    return index === -1 ? undefined : index;
  }

  private takeFault(streamName: string): AppendFault | undefined {
    const index = this.appendFaults.findIndex((fault) => fault.stream === undefined || fault.stream === streamName);
    return index === -1 ? undefined : this.appendFaults.splice(index, 1)[0];
  }
}

/** One connection to an InMemoryEsdbServer, standing in for EventStoreDBClient. */
export class InMemoryEsdbClient implements EsdbClient {
  private readonly subscriptions = new Set<AllStreamSubscription>();
  private disposed = false;

  constructor(readonly server: InMemoryEsdbServer = new InMemoryEsdbServer()) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  appendToStream(
    streamName: string,
    event: EventData | EventData[],
    options: { expectedRevision?: AppendExpectedRevision } = {},
  ): Promise<AppendResult> {
    this.assertOpen();
    return this.server.appendToStream(streamName, event, options);
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
  readonly revision: number;
  readonly type: string;
  readonly dataJson: string;
  readonly metadataJson: string | undefined;
  readonly position: bigint;
}

interface AppendFault {
  readonly error: Error;
  readonly afterWriting: boolean;
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

/** A record as the client hands it out: fresh objects parsed from the stored JSON. */
function toResolved(record: StoredRecord): AllStreamResolvedEvent {
  const position = { commit: record.position, prepare: record.position };
  return {
    event: {
      streamId: record.streamId,
      id: record.id,
      revision: BigInt(record.revision),
      type: record.type,
      isJson: true,
      data: JSON.parse(record.dataJson) as Record<string, unknown>,
      metadata:
        record.metadataJson === undefined ? undefined : (JSON.parse(record.metadataJson) as Record<string, unknown>),
      created: new Date(0),
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

class FakeSubscription extends Readable {
  constructor(
    private readonly serverFilter: Filter | undefined,
    private readonly onEnd: () => void,
  ) {
    super({ objectMode: true });
  }

  override _read(): void {
    // Events are pushed as they are written.
  }

  offer(record: StoredRecord): void {
    if (!this.destroyed && matches(this.serverFilter, record)) this.push(toResolved(record));
  }

  async unsubscribe(): Promise<void> {
    this.onEnd();
    this.destroy();
  }
}

function fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  return (async function* () {
    yield* items;
  })();
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
