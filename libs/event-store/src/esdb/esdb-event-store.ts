import {
  BACKWARDS,
  END,
  FORWARDS,
  NO_STREAM,
  START,
  WrongExpectedVersionError,
  type AllStreamRecordedEvent,
  type NativeClient,
  type AppendResult as EsdbAppendResult,
  type EventData,
  type Position,
  type ReadPosition,
  type ReadRevision,
  type StreamingRead,
} from './esdb-client';
import { connectEsdb, parseEsdbConnectionString } from './esdb-connection';
import { EsdbClockSkewError, EsdbStreamDeletedError } from './esdb-errors';
import { DEFAULT_RETRY_WINDOW_MS, MAX_RETRY_ATTEMPTS, RetryBudget, type RetryPolicy } from './esdb-retry';
import { assertBound, assertReadOptions, prepareAppend, type PreparedAppend } from '../append-validation';
import {
  CommandAlreadyRecordedError,
  DuplicateEventIdError,
  EventStoreClosedError,
  WrongExpectedRevisionError,
} from '../errors';
import type {
  AppendOptions,
  AppendResult,
  CommandRecord,
  EventFilter,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store.port';
import { GENESIS_HASH } from '../hash-chain';
import {
  assertLedgerStreamId,
  backoffDelayMs,
  chainedEvents,
  commandRecordEvent,
  commandStreamId,
  comparePositions,
  fromEsdbPosition,
  isDeadlineExceeded,
  isLedgerStreamId,
  isStreamDeleted,
  isStreamNotFound,
  isTransientError,
  ledgerStreamOf,
  matchesFilter,
  matchesNothing,
  MAX_INT64,
  physicalStreamId,
  resumedStreamRead,
  sameCommandRecord,
  streamLayout,
  subscriptionFilter,
  toCommandRecord,
  toEsdbExpectedRevision,
  toEsdbPosition,
  toRecordedEvent,
  toStoreError,
  toWrongExpectedRevision,
  type ChainStart,
  type EsdbRecord,
  type StreamLayout,
} from './esdb-mapping';
import { idleSource, ReconnectingSubscription, withLeadingRecords, type SubscriptionSource } from './esdb-subscription';
import { KnownPositions } from './known-positions';

/** Events fetched by one server read; a read never holds more than a page of the log in flight. */
export const READ_PAGE_SIZE = 1_000;
/** Attempts of an 'any' or 'stream_exists' append when other writers keep moving the stream's head. */
export const MAX_PINNED_APPEND_ATTEMPTS = 10;
/** The client's own default: the time the server has for one append, counted from when it is sent. */
export const DEFAULT_APPEND_DEADLINE_MS = 10_000;
/**
 * A deadline refusal this early (as a share of the deadline, on this machine's clock) cannot be a slow server: the
 * server's clock is ahead, and the absolute deadline the client sends had passed there before the request arrived.
 */
const CLOCK_SKEW_SHARE = 0.5;
/** Acknowledged appends whose read-back failed, kept to be confirmed later; beyond this, such an append fails. */
export const MAX_UNCONFIRMED_APPENDS = 1_000;
export const MAX_SUBSCRIPTION_RECONNECTS = 30;
/** A subscription connected this long counts as healthy: its next drop starts the backoff afresh. */
export const HEALTHY_CONNECTION_MS = 30_000;

/** The calls the adapter makes; the real client, or a test double. */
export type EsdbClient = Pick<NativeClient, 'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'>;

type ClientReadStreamOptions = NonNullable<Parameters<EsdbClient['readStream']>[1]>;
type ClientReadAllOptions = NonNullable<Parameters<EsdbClient['readAll']>[0]>;

export interface EsdbEventStoreOptions {
  /**
   * An EventStoreDB connection string: `esdb://host1:2113,host2:2113,host3:2113?tls=true` (gossip seeds),
   * `esdb+discover://cluster.dns:2113` (DNS discovery), credentials, TLS. It is parsed and checked here
   * (esdb-connection.ts), and options that would break the adapter's guarantees are refused. The user needs read
   * access to $all (by default, admins only).
   */
  readonly connectionString: string;
  /** Prefix of the streams holding idempotency records; default `ledger-commands-`. */
  readonly commandStreamPrefix?: string;
  /**
   * Prefix of every stream this store writes and the only streams it reads back, so that several ledgers (or test
   * runs) share one cluster. Default none. Hashes are over the un-prefixed stream id.
   */
  readonly namespace?: string;
  /**
   * A position in $all before which no event of this store lies: the position of the store's first event, or the
   * head of $all when the namespace was first used. Reads of the log, and the search for its head, never look
   * before it. It must be the position of a record (the server reads from it). Default: the start of $all.
   */
  readonly logOrigin?: bigint;
}

/** The store's settings without the connection (for a client made elsewhere, such as a test double). */
export interface EsdbEventStoreSettings extends Omit<EsdbEventStoreOptions, 'connectionString'> {
  /** Delay before retry `attempt` (1-based) of a request or a subscription; defaults to a jittered backoff. */
  readonly retryDelayMs?: (attempt: number) => number;
  /** How long a request is retried across transient failures; default 30 s, longer than a leader election. */
  readonly retryWindowMs?: number;
  /** The deadline of one append; default 10 s (the connection string's `defaultDeadline`). */
  readonly appendDeadlineMs?: number;
}

/** What the adapter knows of the cluster, for a health endpoint. */
// A type, not an interface, so that it is a plain record of fields (EventStore.health's return type).
export type EsdbHealth = {
  /**
   * The server's clock minus this machine's, measured on the last event read back after an append (so within a
   * round trip); undefined before the first. The client sends deadlines as absolute times, so a skew near the
   * append deadline makes appends fail (EsdbClockSkewError).
   */
  readonly clockSkewMs: number | undefined;
  readonly appendDeadlineMs: number;
  /** Appends acknowledged by the server whose read-back failed; they are confirmed before later appends. */
  readonly unconfirmedAppends: number;
};

/** An acknowledged append that could not be read back: committed, to be confirmed later. */
interface UnconfirmedAppend {
  readonly streamId: string;
  readonly revision: bigint;
  readonly eventId: string;
  readonly position: bigint;
}

/**
 * Opens the EventStoreDB adapter and checks, before returning, that the cluster answers and that $all can be read
 * (a wrong address, certificate or permission fails start-up rather than the first request).
 */
export async function openEsdbEventStore(options: EsdbEventStoreOptions): Promise<EsdbEventStore> {
  const { connectionString, ...settings } = options;
  const connection = parseEsdbConnectionString(connectionString);
  const client = connectEsdb(connection);
  let store: EsdbEventStore;
  try {
    store = new EsdbEventStore(client, { appendDeadlineMs: connection.defaultDeadlineMs, ...settings });
  } catch (error) {
    await client.dispose();
    throw error;
  }
  try {
    await store.verifyConnection();
  } catch (error) {
    await store.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot read the EventStoreDB log ($all): ${reason}`, { cause: error });
  }
  return store;
}

/**
 * The EventStore port on an EventStoreDB cluster: the adapter through which the ledger scales past one machine.
 *
 * Streams map one to one onto EventStoreDB streams (behind an optional namespace); the global log is $all without
 * system streams, system events and command records. Every append is sent with an exact expected revision (see
 * `write`), which is what gives the hash chain, idempotent retries and conflict detection their guarantees.
 */
export class EsdbEventStore implements EventStore {
  private readonly layout: StreamLayout;
  private readonly origin: bigint | undefined;
  private readonly retryDelayMs: (attempt: number) => number;
  private readonly retryPolicy: RetryPolicy;
  private readonly appendDeadlineMs: number;
  private readonly unconfirmed: UnconfirmedAppend[] = [];
  private confirming: Promise<void> | undefined;
  private clockSkewMs: number | undefined;
  private readonly known = new KnownPositions();
  private readonly subscriptions = new Set<ReconnectingSubscription>();
  private readonly appending = new Set<Promise<unknown>>();
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closePromise: Promise<void> | undefined;

  constructor(
    private readonly client: EsdbClient,
    settings: EsdbEventStoreSettings = {},
  ) {
    this.layout = streamLayout(settings);
    const origin = settings.logOrigin;
    if (origin !== undefined && (typeof origin !== 'bigint' || origin < 0n || origin > MAX_INT64)) {
      throw new Error(`logOrigin must be a position of the log, got ${String(origin)}`);
    }
    this.origin = origin === 0n ? undefined : origin;
    if (this.origin !== undefined) this.known.add(this.origin);
    this.retryDelayMs = settings.retryDelayMs ?? ((attempt) => backoffDelayMs(attempt));
    this.retryPolicy = {
      windowMs: positiveMs('retryWindowMs', settings.retryWindowMs ?? DEFAULT_RETRY_WINDOW_MS),
      maxAttempts: MAX_RETRY_ATTEMPTS,
      delayMs: this.retryDelayMs,
    };
    this.appendDeadlineMs = positiveMs('appendDeadlineMs', settings.appendDeadlineMs ?? DEFAULT_APPEND_DEADLINE_MS);
  }

  // ---- the port -----------------------------------------------------------------------------------------------

  append(streamId: string, events: readonly EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    if (this.state !== 'open') return Promise.reject(new EventStoreClosedError());
    let append: PreparedAppend;
    try {
      append = prepareAppend(streamId, events, options);
      assertLedgerStreamId(this.layout, streamId);
    } catch (error) {
      return Promise.reject(error);
    }
    // Tracked from the call on, so that close() lets an append that was already asked for finish first.
    const appending = this.appendPrepared(append);
    this.appending.add(appending);
    const forget = (): void => {
      this.appending.delete(appending);
    };
    appending.then(forget, forget);
    return appending;
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertReadable();
    assertBound('fromRevision', options.fromRevision);
    assertReadOptions(options.maxCount, undefined, options.direction);
    // System streams and command records are not ledger streams; the store never wrote them as such.
    if (!isLedgerStreamId(this.layout, streamId)) return;
    const backwards = options.direction === 'backwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let from = await this.firstRevisionToRead(streamId, options.fromRevision, backwards);
    while (remaining > 0 && from !== undefined) {
      this.assertReadable();
      const limit = Math.min(READ_PAGE_SIZE, remaining);
      let count = 0;
      let last: bigint | undefined;
      const page = this.storedEvents(streamId, {
        fromRevision: from,
        direction: backwards ? BACKWARDS : FORWARDS,
        maxCount: limit,
      });
      for await (const record of page) {
        const event = toRecordedEvent(this.layout, record);
        count += 1;
        last = event.revision;
        yield event;
      }
      if (count < limit || last === undefined) return;
      remaining -= count;
      from = backwards ? (last === 0n ? undefined : last - 1n) : last + 1n;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertReadable();
    assertBound('fromPosition', options.fromPosition);
    assertReadOptions(options.maxCount, options.filter);
    const from = options.fromPosition ?? 0n;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (remaining === 0 || matchesNothing(options.filter)) return;
    // The client's readAll takes no filter (it always sends "no filter"), so the log is filtered here.
    let cursor = await this.anchorAtOrBefore(from);
    let previous: Position | undefined;
    for (;;) {
      this.assertReadable();
      let count = 0;
      for await (const record of this.storedLog({
        fromPosition: cursor,
        direction: FORWARDS,
        maxCount: READ_PAGE_SIZE,
      })) {
        count += 1;
        // A page starts at the previous page's last record (reads are inclusive): skip it.
        if (previous !== undefined && comparePositions(record.position, previous) <= 0) continue;
        previous = record.position;
        const event = this.toLedgerEvent(record, options.filter, from);
        if (event === undefined) continue;
        yield event;
        remaining -= 1;
        if (remaining === 0) return;
      }
      if (count < READ_PAGE_SIZE || previous === undefined) return;
      cursor = previous;
    }
  }

  subscribe(options: SubscribeOptions = {}): Subscription {
    this.assertReadable();
    assertBound('afterPosition', options.afterPosition);
    assertReadOptions(undefined, options.filter);
    const filter = options.filter;
    const subscription = new ReconnectingSubscription({
      afterPosition: options.afterPosition,
      connect: (after) => this.openServerSubscription(after, filter),
      toEvent: (resolved) =>
        resolved.event === undefined ? undefined : this.toLedgerEvent(resolved.event, filter, 0n),
      isTransient: isTransientError,
      reconnectDelayMs: this.retryDelayMs,
      maxReconnectAttempts: MAX_SUBSCRIPTION_RECONNECTS,
      healthyConnectionMs: HEALTHY_CONNECTION_MS,
      onClose: (closed) => this.subscriptions.delete(closed),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async streamRevision(streamId: string): Promise<bigint | undefined> {
    this.assertReadable();
    return isLedgerStreamId(this.layout, streamId) ? this.lastRevision(streamId) : undefined;
  }

  async findCommand(key: string): Promise<CommandRecord | undefined> {
    this.assertReadable();
    return this.readCommandRecord(key);
  }

  /** The last ledger event of $all: read backwards from the end, past system events and command records. */
  async headPosition(): Promise<bigint | undefined> {
    this.assertReadable();
    for await (const record of this.storedLogBackwards()) {
      if (this.origin !== undefined && record.position.commit < this.origin) return undefined;
      if (ledgerStreamOf(this.layout, record) === undefined) continue;
      const position = fromEsdbPosition(record.position, `event ${record.id} of stream ${record.streamId}`);
      this.known.add(position);
      return position;
    }
    return undefined;
  }

  health(): EsdbHealth {
    return {
      clockSkewMs: this.clockSkewMs,
      appendDeadlineMs: this.appendDeadlineMs,
      unconfirmedAppends: this.unconfirmed.length,
    };
  }

  /** Lets the appends already asked for finish, ends the subscriptions, then disposes of the client. Idempotent. */
  close(): Promise<void> {
    this.closePromise ??= this.closeNow();
    return this.closePromise;
  }

  /**
   * Reads the head of $all once, without retries: fails when the cluster cannot be reached or the user may not
   * read $all, so that start-up reports it at once.
   */
  async verifyConnection(): Promise<void> {
    this.assertReadable();
    const options = { fromPosition: END, direction: BACKWARDS, maxCount: 1, resolveLinkTos: false } as const;
    for await (const resolved of drain(this.client.readAll(options))) if (resolved !== undefined) return;
  }

  private async closeNow(): Promise<void> {
    this.state = 'closing';
    await this.closeSubscriptions();
    await Promise.allSettled([...this.appending]);
    // Reads stay allowed while closing, so a subscription may have been opened meanwhile.
    await this.closeSubscriptions();
    this.state = 'closed';
    await this.client.dispose();
  }

  private async closeSubscriptions(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
  }

  private assertReadable(): void {
    if (this.state === 'closed') throw new EventStoreClosedError();
  }

  // ---- appends ------------------------------------------------------------------------------------------------

  /**
   * Command (idempotency) records. EventStoreDB has no transaction across streams, so the record cannot be written
   * in the commit that holds the events, as the port's other adapters do. It is written after them, as the single
   * event of the stream `${commandStreamPrefix}${sha256(key)}` with expected revision NO_STREAM:
   *
   * - Before the append, an existing record refuses the command (CommandAlreadyRecordedError) and nothing is written.
   * - Crash window: if the process dies after the events are appended and before the record is written, the key
   *   has no record. The command's events carry ids derived from its command id (event-ids.ts). Retried with the
   *   same events at the same expected revision, the append is recognised by the server as already done (see
   *   `write`) and answered with its original result, and the record is then written: nothing is duplicated. A
   *   retry whose own events are still the last of the stream is recognised too, whatever revision it expects
   *   (`storedRetry`). What the adapter cannot recognise is a retry that decides anew on a state that already holds
   *   its events and appends different events after others have followed them; the deciders refuse such repeats
   *   by their own ids (WITHDRAWAL_ALREADY_EXISTS, DEPOSIT_ALREADY_RECORDED, ...), so nothing is written twice, but
   *   that caller gets a refusal instead of the first result.
   * - Two different appends racing under one key both pass the first check; the second record write then fails
   *   on NO_STREAM and that append is answered with the first one's record (CommandAlreadyRecordedError), although
   *   its events were written. In the ledger, commands on one stream are serialised per process, and one key
   *   names one request, so this needs two processes sending different requests under the same key at once.
   */
  private async appendPrepared(append: PreparedAppend): Promise<AppendResult> {
    await this.confirmPending();
    const command = append.options.command;
    if (command !== undefined) {
      const earlier = await this.readCommandRecord(command.key);
      if (earlier !== undefined) throw new CommandAlreadyRecordedError(earlier);
    }
    const result = await this.appendEvents(append);
    if (command !== undefined) await this.writeCommandRecord({ ...command, result });
    return result;
  }

  private async appendEvents(append: PreparedAppend): Promise<AppendResult> {
    const expected = append.options.expectedRevision;
    if (expected === 'any' || expected === 'stream_exists') return this.appendAtHead(append, expected);
    // A revision past what the server can hold is never current: no read needed to refuse it.
    const predecessor =
      expected === 'no_stream' || expected > MAX_INT64 ? undefined : await this.readEventAt(append.streamId, expected);
    if (expected !== 'no_stream' && predecessor === undefined) {
      // The stream has no event at the expected revision: it is behind it (or missing), and the append cannot go.
      throw new WrongExpectedRevisionError(append.streamId, expected, await this.lastRevision(append.streamId));
    }
    return (await this.storedRetry(append, predecessor)) ?? this.write(append, predecessor);
  }

  /**
   * 'any' and 'stream_exists' appends. The hash chain needs the predecessor's hash and revision, so the head is read
   * and the append is pinned to it (an exact expected revision). Sending ANY instead would let another writer
   * append between the read and the write, and the events would land after an event they do not link to: a
   * broken chain with no error. Pinned, that race becomes a revision conflict, and the head is read again.
   */
  private async appendAtHead(append: PreparedAppend, expected: 'any' | 'stream_exists'): Promise<AppendResult> {
    for (let attempt = 1; ; attempt += 1) {
      const head = await this.readLastEvent(append.streamId);
      if (expected === 'stream_exists' && head === undefined) {
        throw new WrongExpectedRevisionError(append.streamId, expected, undefined);
      }
      const retried = await this.storedRetry(append, head);
      if (retried !== undefined) return retried;
      try {
        return await this.write(append, head);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= MAX_PINNED_APPEND_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * When the event the append would follow is one of its own, the append was made before (a retry whose first
   * attempt succeeded): if the stream ends with exactly these events, their result; any other overlap is refused.
   */
  private async storedRetry(
    append: PreparedAppend,
    predecessor: RecordedEvent | undefined,
  ): Promise<AppendResult | undefined> {
    const ids = append.events.map((event) => event.eventId);
    if (predecessor === undefined || !ids.includes(predecessor.eventId)) return undefined;
    const tail: string[] = [];
    const options = {
      fromRevision: predecessor.revision,
      direction: BACKWARDS,
      maxCount: ids.length,
      requiresLeader: true,
    } as const;
    for await (const record of this.storedEvents(append.streamId, options)) tail.unshift(record.id.toLowerCase());
    if (tail.length !== ids.length || tail.some((id, index) => id !== ids[index])) {
      throw new DuplicateEventIdError(predecessor.eventId);
    }
    this.known.add(predecessor.position);
    return {
      streamId: append.streamId,
      nextRevision: predecessor.revision,
      position: predecessor.position,
      eventIds: ids,
    };
  }

  /**
   * Appends after `predecessor` (or as a new stream), with that exact expected revision.
   *
   * Idempotence: for an exact expected revision (NO_STREAM counts as revision -1), when the stream is already past
   * it, EventStoreDB compares the ids of the events at the following revisions with the ids sent. All equal: the
   * append is answered with success and the original revisions, and nothing is written. Only some equal: a wrong
   * expected version, and nothing is written. It reads those events from its index, so this holds for any age of
   * the first append. With ANY (and STREAM_EXISTS) it only looks the ids up in a bounded in-memory cache of recent
   * writes: best effort, lost on restart or once the cache has moved on. That is why the adapter never sends ANY,
   * and why the port's rule for retries (the same events at the same expected revision) is what makes a retry safe.
   * It is also why a write that failed ambiguously (a timeout, a lost connection) is simply sent again here.
   *
   * What EventStoreDB does not check is the uniqueness of an event id across appends: the same id in another
   * stream, or at another revision, is stored again. Only the cases above are refused (DuplicateEventIdError).
   */
  private async write(append: PreparedAppend, predecessor: RecordedEvent | undefined): Promise<AppendResult> {
    const start: ChainStart =
      predecessor === undefined
        ? { revision: 0n, prevHash: GENESIS_HASH }
        : { revision: predecessor.revision + 1n, prevHash: predecessor.metadata.hash };
    // A soft-deleted stream reads as no stream, and the server takes a NO_STREAM append to it after the deleted
    // events: the chain would start from genesis at a revision past zero.
    if (predecessor === undefined) await this.assertNotSoftDeleted(append.streamId);
    const events = chainedEvents(append.streamId, append.events, start);
    const pinned: ExpectedRevision = predecessor === undefined ? 'no_stream' : predecessor.revision;
    const sentAt = Date.now();
    const appended = await this.send(append, events, pinned, start.revision);
    return this.confirm(append, start.revision, appended, sentAt);
  }

  /** Soft deletion leaves `$tb` (truncate before) in the stream's metadata stream, `$$<stream>`. */
  private async assertNotSoftDeleted(streamId: string): Promise<void> {
    const options = { fromRevision: END, direction: BACKWARDS, maxCount: 1, requiresLeader: true } as const;
    for await (const record of this.rawStream(`$$${physicalStreamId(this.layout, streamId)}`, options)) {
      const metadata = record.data as { $tb?: unknown } | null;
      if (typeof metadata === 'object' && metadata !== null && metadata.$tb !== undefined) {
        throw new EsdbStreamDeletedError(streamId, 'soft delete');
      }
    }
  }

  private async send(
    append: PreparedAppend,
    events: EventData[],
    pinned: ExpectedRevision,
    firstRevision: bigint,
  ): Promise<EsdbAppendResult> {
    const stream = physicalStreamId(this.layout, append.streamId);
    const expected = append.options.expectedRevision;
    const budget = new RetryBudget(this.retryPolicy);
    for (;;) {
      const sentAt = Date.now();
      try {
        return await this.client.appendToStream(stream, events, {
          expectedRevision: toEsdbExpectedRevision(pinned),
          requiresLeader: true,
          deadline: this.appendDeadlineMs,
        });
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) throw await this.explainConflict(append, firstRevision, error);
        this.assertNoClockSkew(error, append.streamId, Date.now() - sentAt);
        if (isStreamDeleted(error)) throw new EsdbStreamDeletedError(append.streamId, 'tombstone');
        await budget.retryAfter(toStoreError(error, append.streamId, expected));
      }
    }
  }

  /** A deadline refusal well before the deadline passed here is the server's clock, not a slow server. */
  private assertNoClockSkew(error: unknown, streamId: string, elapsedMs: number): void {
    if (isDeadlineExceeded(error) && elapsedMs < this.appendDeadlineMs * CLOCK_SKEW_SHARE) {
      throw new EsdbClockSkewError(streamId, this.appendDeadlineMs, elapsedMs);
    }
  }

  /** A refused append: some of its ids already at the revisions it aimed for is a duplicate; else a revision conflict. */
  private async explainConflict(
    append: PreparedAppend,
    firstRevision: bigint,
    error: WrongExpectedVersionError,
  ): Promise<Error> {
    const ours = new Set(append.events.map((event) => event.eventId));
    const options = {
      fromRevision: firstRevision,
      direction: FORWARDS,
      maxCount: ours.size,
      requiresLeader: true,
    } as const;
    for await (const record of this.storedEvents(append.streamId, options)) {
      const id = record.id.toLowerCase();
      if (ours.has(id)) return new DuplicateEventIdError(id);
    }
    return toWrongExpectedRevision(error, append.streamId, append.options.expectedRevision);
  }

  /**
   * The result of a successful append. Its position is read from the last event itself: that is exactly what a
   * reader of $all will see, including for an idempotent retry, where servers differ in the position they send.
   */
  private async confirm(
    append: PreparedAppend,
    firstRevision: bigint,
    appended: EsdbAppendResult,
    sentAt: number,
  ): Promise<AppendResult> {
    const ids = append.events.map((event) => event.eventId);
    const lastRevision = appended.nextExpectedRevision;
    const expectedLast = firstRevision + BigInt(ids.length - 1);
    if (lastRevision !== expectedLast) {
      throw new Error(
        `EventStoreDB acknowledged the append to ${append.streamId} at revision ${lastRevision}, not ${expectedLast}`,
      );
    }
    let last: EsdbRecord | undefined;
    try {
      last = await this.readRecordAt(append.streamId, lastRevision);
    } catch (error) {
      // The append is committed: a read-back that fails now (an election, say) is confirmed later, not a failure.
      if (!isTransientError(error)) throw error;
      return this.confirmLater(append, lastRevision, appended, error);
    }
    const event = last === undefined ? undefined : toRecordedEvent(this.layout, last);
    if (event?.eventId !== ids[ids.length - 1]) {
      throw new Error(
        `after appending to ${append.streamId}, revision ${lastRevision} does not hold the append's last event`,
      );
    }
    this.measureClockSkew(last!, sentAt);
    this.known.add(event.position);
    return { streamId: append.streamId, nextRevision: lastRevision, position: event.position, eventIds: ids };
  }

  /**
   * The server's clock minus this machine's: a freshly written event was written between sending and now, so this
   * is within half a round trip. When the server answered a retried command with its original events, their time is
   * older and the figure reads low (the server seemingly behind) until the next fresh append; a server ahead, the
   * case that breaks deadlines, is never hidden by that.
   */
  private measureClockSkew(record: EsdbRecord, sentAt: number): void {
    if (record.created === undefined) return;
    this.clockSkewMs = Math.round(record.created.getTime() - (sentAt + Date.now()) / 2);
  }

  /** The result from the acknowledgement's position; the read-back is done before a later append. */
  private confirmLater(
    append: PreparedAppend,
    lastRevision: bigint,
    appended: EsdbAppendResult,
    readFailure: unknown,
  ): AppendResult {
    const ids = append.events.map((event) => event.eventId);
    let position: bigint;
    try {
      position = fromEsdbPosition(appended.position, `the append to ${append.streamId}`);
    } catch {
      // Without a position in the acknowledgement there is no result to give: the append is committed, unreported.
      throw readFailure;
    }
    if (this.unconfirmed.length >= MAX_UNCONFIRMED_APPENDS) throw readFailure;
    this.unconfirmed.push({ streamId: append.streamId, revision: lastRevision, eventId: ids[ids.length - 1]!, position });
    return { streamId: append.streamId, nextRevision: lastRevision, position, eventIds: ids };
  }

  /**
   * Reads back the acknowledged appends whose read-back failed. One that is not there, or not at the position the
   * server acknowledged, breaks what the ledger was told: that is a fault, and the store stops appending.
   */
  private confirmPending(): Promise<void> {
    if (this.unconfirmed.length === 0) return Promise.resolve();
    // Concurrent appends share one pass, so that each pending append is read back once.
    this.confirming ??= this.confirmPendingNow().finally(() => {
      this.confirming = undefined;
    });
    return this.confirming;
  }

  private async confirmPendingNow(): Promise<void> {
    while (this.unconfirmed.length > 0) {
      const pending = this.unconfirmed[0]!;
      const event = await this.readEventAt(pending.streamId, pending.revision);
      if (event?.eventId !== pending.eventId || event.position !== pending.position) {
        throw new Error(
          `EventStoreDB acknowledged an append to ${pending.streamId} at revision ${pending.revision} and position ` +
            `${pending.position}, but the stream does not hold it there`,
        );
      }
      this.known.add(event.position);
      this.unconfirmed.shift();
    }
  }

  // ---- command records ----------------------------------------------------------------------------------------

  private async readCommandRecord(key: string): Promise<CommandRecord | undefined> {
    const stream = commandStreamId(this.layout, key);
    const options = { fromRevision: START, direction: FORWARDS, maxCount: 1, requiresLeader: true } as const;
    for await (const record of this.rawStream(stream, options)) return toCommandRecord(record, key);
    return undefined;
  }

  /** Writes the record (see appendPrepared); its event id derives from its content, so a retry is idempotent. */
  private async writeCommandRecord(record: CommandRecord): Promise<void> {
    const stream = commandStreamId(this.layout, record.key);
    const event = commandRecordEvent(record);
    const budget = new RetryBudget(this.retryPolicy);
    for (;;) {
      const sentAt = Date.now();
      try {
        await this.client.appendToStream(stream, event, {
          expectedRevision: NO_STREAM,
          requiresLeader: true,
          deadline: this.appendDeadlineMs,
        });
        return;
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          const stored = await this.readCommandRecord(record.key);
          if (stored !== undefined && sameCommandRecord(stored, record)) return;
          if (stored !== undefined) throw new CommandAlreadyRecordedError(stored);
        }
        this.assertNoClockSkew(error, stream, Date.now() - sentAt);
        await budget.retryAfter(error);
      }
    }
  }

  // ---- reads --------------------------------------------------------------------------------------------------

  private async readEventAt(streamId: string, revision: bigint): Promise<RecordedEvent | undefined> {
    const record = await this.readRecordAt(streamId, revision);
    return record === undefined ? undefined : toRecordedEvent(this.layout, record);
  }

  private async readRecordAt(streamId: string, revision: bigint): Promise<EsdbRecord | undefined> {
    const options = { fromRevision: revision, direction: FORWARDS, maxCount: 1, requiresLeader: true } as const;
    for await (const record of this.storedEvents(streamId, options)) {
      return record.revision === revision ? record : undefined;
    }
    return undefined;
  }

  private async readLastEvent(streamId: string): Promise<RecordedEvent | undefined> {
    const options = { fromRevision: END, direction: BACKWARDS, maxCount: 1, requiresLeader: true } as const;
    for await (const record of this.storedEvents(streamId, options)) return toRecordedEvent(this.layout, record);
    return undefined;
  }

  private async lastRevision(streamId: string): Promise<bigint | undefined> {
    const options = { fromRevision: END, direction: BACKWARDS, maxCount: 1 } as const;
    for await (const record of this.storedEvents(streamId, options)) return record.revision;
    return undefined;
  }

  /**
   * Where a stream read starts. Backwards from an explicit revision, it is clamped to the stream's last revision
   * (the port reads from the end then); forwards, a revision past what the server can hold reads nothing.
   */
  private async firstRevisionToRead(
    streamId: string,
    fromRevision: bigint | undefined,
    backwards: boolean,
  ): Promise<ReadRevision | undefined> {
    if (fromRevision === undefined) return backwards ? END : START;
    if (!backwards) return fromRevision > MAX_INT64 ? undefined : fromRevision;
    const last = await this.lastRevision(streamId);
    if (last === undefined) return undefined;
    return fromRevision < last ? fromRevision : last;
  }

  /** A record of $all as a ledger event passing the filter, at or after `from`; undefined otherwise. */
  private toLedgerEvent(
    record: AllStreamRecordedEvent,
    filter: EventFilter | undefined,
    from: bigint,
  ): RecordedEvent | undefined {
    if (record.position.commit < from) return undefined;
    const streamId = ledgerStreamOf(this.layout, record);
    if (streamId === undefined || !matchesFilter(filter, streamId, record.type)) return undefined;
    const event = toRecordedEvent(this.layout, record);
    this.known.add(event.position);
    return event;
  }

  private async openServerSubscription(
    after: bigint | undefined,
    filter: EventFilter | undefined,
  ): Promise<SubscriptionSource> {
    if (matchesNothing(filter)) return idleSource();
    const fromPosition = await this.anchorAtOrBefore(after ?? 0n);
    // The server subscribes after the position it is given (START aside), but the record at the log origin is
    // part of the log: it is read first, then the subscription goes on after it.
    const origin = this.origin;
    const fromOrigin = origin !== undefined && fromPosition !== START && fromPosition !== END && fromPosition.commit === origin;
    const first = fromOrigin && (after === undefined || after < origin) ? await this.recordStartingAt(origin) : undefined;
    const source = this.client.subscribeToAll({
      fromPosition,
      filter: subscriptionFilter(this.layout, filter),
      resolveLinkTos: false,
    });
    if (first === undefined) return source;
    return withLeadingRecords([{ event: first, commitPosition: first.position.commit }], source);
  }

  /**
   * A position the server can read from (the start of a record) at or before `position`; the caller skips what
   * comes before `position`. See known-positions.ts for why an arbitrary position cannot be sent as it is.
   */
  private async anchorAtOrBefore(position: bigint): Promise<ReadPosition> {
    if (this.origin !== undefined && position <= this.origin) return toEsdbPosition(this.origin);
    if (position === 0n) return START;
    const known = this.known.floor(position);
    if (known !== undefined && position - known <= 1n) return toEsdbPosition(known);
    // A checkpoint from another process is an event's position, or one past it (a projection reads from
    // `checkpoint + 1n`): asking the server whether a record starts there costs one read, whatever the log's size.
    for (const candidate of [position, position - 1n]) {
      const record = await this.recordStartingAt(candidate);
      if (record === undefined) continue;
      if (ledgerStreamOf(this.layout, record) !== undefined) this.known.add(candidate);
      return record.position;
    }
    if (known !== undefined) return toEsdbPosition(known);
    return this.discoverAnchor(position);
  }

  /** The record that starts exactly at `position`, if one does; the server refuses a position inside a record. */
  private async recordStartingAt(position: bigint): Promise<AllStreamRecordedEvent | undefined> {
    const options = { fromPosition: toEsdbPosition(position), direction: FORWARDS, maxCount: 1 } as const;
    try {
      for await (const record of this.storedLog(options)) {
        const { commit, prepare } = record.position;
        return commit === position && prepare === position ? record : undefined;
      }
      return undefined;
    } catch (error) {
      if (isTransientError(error)) throw error;
      return undefined;
    }
  }

  /**
   * The greatest record start at or before an arbitrary position (neither an event's position nor one past it):
   * found from whichever end of the log is nearer (positions are byte offsets). Only such positions cost a scan.
   */
  private async discoverAnchor(position: bigint): Promise<ReadPosition> {
    const head = await this.storedHead();
    const floor = this.origin === undefined ? START : toEsdbPosition(this.origin);
    if (head === undefined) return floor;
    if (head.commit <= position) return head;
    if (position - (this.origin ?? 0n) <= head.commit - position) return floor;
    for await (const record of this.storedLogBackwards()) {
      const { commit, prepare } = record.position;
      if (this.origin !== undefined && commit < this.origin) return floor;
      if (commit <= position && commit === prepare) {
        // Remembered only if it is a ledger event: those are never deleted, while a system event may be scavenged.
        if (ledgerStreamOf(this.layout, record) !== undefined) this.known.add(commit);
        return record.position;
      }
    }
    return floor;
  }

  private async storedHead(): Promise<Position | undefined> {
    const options = { fromPosition: END, direction: BACKWARDS, maxCount: 1 } as const;
    for await (const record of this.storedLog(options)) return record.position;
    return undefined;
  }

  /** Every record of $all from the end backwards, page by page. */
  private async *storedLogBackwards(): AsyncGenerator<AllStreamRecordedEvent> {
    let cursor: ReadPosition = END;
    let previous: Position | undefined;
    for (;;) {
      let count = 0;
      for await (const record of this.storedLog({
        fromPosition: cursor,
        direction: BACKWARDS,
        maxCount: READ_PAGE_SIZE,
      })) {
        count += 1;
        if (previous !== undefined && comparePositions(record.position, previous) >= 0) continue;
        previous = record.position;
        yield record;
      }
      if (count < READ_PAGE_SIZE || previous === undefined) return;
      cursor = previous;
    }
  }

  /** Records of one ledger stream. */
  private storedEvents(streamId: string, options: ClientReadStreamOptions): AsyncGenerator<EsdbRecord> {
    return this.rawStream(physicalStreamId(this.layout, streamId), options);
  }

  /**
   * Records of one physical stream; nothing when the stream does not exist. A transient failure (a leader change,
   * a lost connection) is retried, and the read goes on after the last record it delivered.
   */
  private async *rawStream(stream: string, options: ClientReadStreamOptions): AsyncGenerator<EsdbRecord> {
    const budget = new RetryBudget(this.retryPolicy);
    let request: ClientReadStreamOptions | undefined = options;
    while (request !== undefined) {
      let last: EsdbRecord | undefined;
      let delivered = 0;
      try {
        for await (const resolved of drain(this.client.readStream(stream, request))) {
          if (resolved.event === undefined) continue;
          last = resolved.event;
          delivered += 1;
          yield resolved.event;
        }
        return;
      } catch (error) {
        if (isStreamNotFound(error)) return;
        if (isStreamDeleted(error)) throw new EsdbStreamDeletedError(this.logicalName(stream), 'tombstone');
        if (delivered > 0) budget.progressed();
        await budget.retryAfter(error);
        if (last !== undefined) request = resumedStreamRead(request, last.revision, delivered);
      }
    }
  }

  /**
   * Records of $all (without link resolution, every message carries its record). A transient failure is retried
   * from the last record delivered, which the new read delivers again and is skipped.
   */
  private async *storedLog(options: ClientReadAllOptions): AsyncGenerator<AllStreamRecordedEvent> {
    const budget = new RetryBudget(this.retryPolicy);
    const backwards = options.direction === BACKWARDS;
    let remaining = options.maxCount === undefined ? undefined : BigInt(options.maxCount);
    let request: ClientReadAllOptions = { ...options, resolveLinkTos: false };
    let last: Position | undefined;
    for (;;) {
      let delivered = 0;
      try {
        for await (const resolved of drain(this.client.readAll(request))) {
          const record = resolved.event;
          if (record === undefined) continue;
          if (last !== undefined && comparePositions(record.position, last) * (backwards ? -1 : 1) <= 0) continue;
          if (remaining !== undefined && remaining <= 0n) return;
          last = record.position;
          delivered += 1;
          if (remaining !== undefined) remaining -= 1n;
          yield record;
        }
        return;
      } catch (error) {
        if (delivered > 0) budget.progressed();
        await budget.retryAfter(error);
        if (last !== undefined) {
          request = { ...request, fromPosition: last, ...(remaining === undefined ? {} : { maxCount: remaining + 1n }) };
        }
      }
    }
  }

  private logicalName(stream: string): string {
    return stream.startsWith(this.layout.namespace) ? stream.slice(this.layout.namespace.length) : stream;
  }
}

/** Iterates a server read, and cancels the call when the caller stops early (breaking a loop does not). */
async function* drain<T>(read: StreamingRead<T>): AsyncGenerator<T> {
  let complete = false;
  try {
    for await (const item of read) yield item;
    complete = true;
  } finally {
    if (!complete) await read.cancel().catch(() => undefined);
  }
}

function positiveMs(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive whole number of milliseconds, got ${String(value)}`);
  }
  return value;
}
