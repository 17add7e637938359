import { Pool, type PoolClient } from 'pg';
import { assertBound, assertReadOptions, prepareAppend, type PreparedAppend } from '../append-validation';
import { reportCommit } from '../commit-report';
import { EventStoreClosedError } from '../errors';
import type {
  AppendOptions,
  AppendResult,
  CommandRecord,
  CommitObserver,
  EventFilter,
  EventStore,
  EventToAppend,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store.port';
import {
  AppendQueue,
  MAX_APPENDS_PER_COMMIT,
  MAX_EVENTS_PER_COMMIT,
  type PendingAppend,
  rejectBatch,
  settleBatch,
} from '../group-commit';
import {
  assertPollInterval,
  type LogPage,
  type LogPageReader,
  PollingSubscription,
  READ_PAGE_SIZE,
  readLogPages,
  SCAN_WINDOW_POSITIONS,
  subscribeToLogPages,
} from '../polling-subscription';
import {
  type BatchState,
  decideAppend,
  insertChunks,
  recordWrite,
  type ChainedEvent,
  type WriteDecision,
} from './postgres-append-decision';
import { NotificationListener } from './postgres-notifications';
import { assertSchemaName, keepConnectionErrorsFromCrashing, migrate } from './postgres-schema';
import {
  type BatchStateRow,
  type CommandRow,
  type EventRow,
  holdsEvent,
  type LogPageRow,
  type Statements,
  statements,
  toBatchState,
  toBigInt,
  toCommandRecord,
  toRecordedEvent,
} from './postgres-statements';

/*
 * THE GLOBAL ORDER: no reader may see a position before every smaller one is visible
 *
 * A reader checkpoints the last position it saw and reads "after" it. With positions from a plain sequence, a
 * transaction can take position 10, a second one take 11 and commit first, and a reader that sees 11 moves its
 * checkpoint past 10, which then commits and is skipped forever.
 *
 * This adapter serialises appends instead: every write transaction first takes a transaction-scoped advisory
 * lock (`pg_advisory_xact_lock(APPEND_LOCK_CLASS, <schema key>)`), then reads the log head and assigns the next
 * positions itself, then commits. PostgreSQL makes a commit visible to new snapshots (ProcArrayEndTransaction)
 * before it releases the transaction's locks, so the next writer gets the lock only once every smaller position
 * is visible, and its own positions become visible after them. Any snapshot therefore sees a prefix of the log:
 * positions are committed in order and without gaps (1, 2, 3, ...; a rolled-back append used no sequence value).
 * Reads need nothing special: "position > checkpoint" is always safe. The unique indexes (position, event_id,
 * stream_id + revision) are the backstop: a writer that broke the rule would fail, never write a wrong fact.
 *
 * The write transactions run at READ COMMITTED on purpose: each statement takes a fresh snapshot, so the state
 * read after the lock is granted sees everything committed before it. Under REPEATABLE READ the snapshot would
 * date from before the lock wait.
 *
 * Why not transaction-id visibility (`pg_current_xact_id()` and readers that stay below the xmin horizon of
 * `pg_current_snapshot()`)? It allows parallel writers, but every reader then lags behind the oldest open
 * transaction in the whole database (any long report or stuck session stalls all subscriptions), positions are
 * no longer contiguous, and the proof of correctness moves into every read. A ledger's appends are small and
 * short; one ordered writer is simpler to reason about and to audit.
 *
 * The cost is one writer at a time per log, across all processes. To keep throughput:
 * - appends made concurrently in this process are grouped into one transaction (group commit, as in the SQLite
 *   adapter): a batch pays one lock, one commit and one fsync;
 * - the batch reads everything its checks need in one query once it holds the lock (stream heads, stored event
 *   ids, recorded commands), checks each append in memory against that state and the batch's earlier writes,
 *   and writes each append with one statement (events, stream head and command record together);
 * - each append keeps its own success or failure: a refused append writes nothing; if the server fails the
 *   write of one append (a constraint or a fault), the transaction is rolled back and run again without that
 *   append, which fails alone with the server's error. Faults are rare, so this costs less than a savepoint
 *   (two more round trips) around every append. A broken connection fails the whole batch, having written nothing.
 */

export const DEFAULT_SCHEMA = 'public';
export const DEFAULT_POOL_SIZE = 10;
export const MAX_POOL_SIZE = 100;
/** The bounds this adapter shares with the SQLite one, exported here as before. */
export { MAX_APPENDS_PER_COMMIT, MAX_EVENTS_PER_COMMIT, READ_PAGE_SIZE, SCAN_WINDOW_POSITIONS };
/** The fallback poll of an idle subscription; LISTEN/NOTIFY wakes it at once in the normal case. */
export const SUBSCRIPTION_POLL_INTERVAL_MS = 1_000;
/** How long taking a connection from the pool (or opening one) may take. */
export const CONNECT_TIMEOUT_MS = 10_000;
export const APPLICATION_NAME = 'ledger-event-store';

const MAX_INT8 = 9_223_372_036_854_775_807n;
/** Control characters and lone surrogates: prepareAppend refuses them, so no stored name holds one. */
const UNSTORABLE_CHARACTERS = /[\p{Cc}\p{Cs}]/u;

export interface PostgresEventStoreOptions {
  /** A `postgres://` URL, as `pg` accepts it. */
  readonly connectionString: string;
  /** The schema holding the tables; created if missing. Defaults to DEFAULT_SCHEMA. */
  readonly schema?: string;
  /** Connections of the pool (reads and the one writer). Defaults to DEFAULT_POOL_SIZE. */
  readonly poolSize?: number;
  /** Defaults to SUBSCRIPTION_POLL_INTERVAL_MS. Commits by any store instance wake subscriptions at once anyway. */
  readonly subscriptionPollIntervalMs?: number;
}

/**
 * Opens the store: creates the schema or migrates it to the current version (safe when several processes start
 * at once), then starts listening for commits of other instances.
 */
export function openPostgresEventStore(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  return PostgresEventStore.open(options);
}

interface Settings {
  readonly connectionString: string;
  readonly schema: string;
  readonly poolSize: number;
  readonly pollIntervalMs: number;
}

function checkedSettings(options: PostgresEventStoreOptions): Settings {
  const { connectionString, schema = DEFAULT_SCHEMA, poolSize = DEFAULT_POOL_SIZE } = options;
  const pollIntervalMs = options.subscriptionPollIntervalMs ?? SUBSCRIPTION_POLL_INTERVAL_MS;
  if (typeof connectionString !== 'string' || connectionString === '') throw new Error('the postgres event store needs a connection string');
  assertSchemaName(schema);
  if (!Number.isSafeInteger(poolSize) || poolSize < 1 || poolSize > MAX_POOL_SIZE) {
    throw new Error(`poolSize must be from 1 to ${MAX_POOL_SIZE}, got ${poolSize}`);
  }
  assertPollInterval(pollIntervalMs);
  return { connectionString, schema, poolSize, pollIntervalMs };
}

// ---- the write path's types -----------------------------------------------------------------------------------

/** `written` is false for a recognised retry, which returns the stored result and writes nothing. */
type Outcome =
  | { readonly ok: true; readonly result: AppendResult; readonly written: boolean }
  | { readonly ok: false; readonly error: unknown };

/** The write of one append of the batch failed; the transaction is rolled back and runs again without it. */
class AppendWriteFailure extends Error {
  constructor(
    readonly index: number,
    readonly reason: unknown,
  ) {
    super(`append ${index} of the batch failed to write`);
  }
}

/**
 * The PostgreSQL event store: one schema, a connection pool for reads and one writer at a time (see THE GLOBAL
 * ORDER above), and a LISTEN connection that wakes subscriptions when another instance commits.
 */
export class PostgresEventStore implements EventStore {
  readonly schema: string;
  private readonly sql: Statements;
  private readonly pollIntervalMs: number;
  private readonly listener: NotificationListener;
  private readonly subscriptions = new Set<PollingSubscription>();
  private readonly queue = new AppendQueue();
  private flushing: Promise<void> | undefined;
  private commitObserver: CommitObserver | undefined;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closePromise: Promise<void> | undefined;
  private commits = 0;
  private readonly assertReadableNow = (): void => this.assertReadable();
  /** Ignores metadataOnAccess: a page's rows carry their metadata anyway. */
  private readonly logPageReader: LogPageReader = (after, filter, limit) => this.readLogPage(after, filter, limit);

  /** See openPostgresEventStore. The constructor is private: a store is only used on a migrated schema. */
  static async open(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const settings = checkedSettings(options);
    const pool = new Pool({
      connectionString: settings.connectionString,
      max: settings.poolSize,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: APPLICATION_NAME,
    });
    // An idle connection that breaks is dropped by the pool; the next query opens a new one and reports any fault.
    // Without a listener the 'error' event would crash the process.
    pool.on('error', () => undefined);
    keepConnectionErrorsFromCrashing(pool);
    try {
      await migrate(pool, settings.schema);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    const store = new PostgresEventStore(pool, settings);
    // Never fails: without a connection now, the listener retries in the background and polling covers the gap.
    await store.listener.start();
    return store;
  }

  private constructor(
    private readonly pool: Pool,
    settings: Settings,
  ) {
    this.schema = settings.schema;
    this.sql = statements(settings.schema);
    this.pollIntervalMs = settings.pollIntervalMs;
    this.listener = new NotificationListener({
      connectionString: settings.connectionString,
      payload: settings.schema,
      onSignal: () => this.signalSubscriptions(),
    });
  }

  observeCommits(observer: CommitObserver): void {
    this.commitObserver = observer;
  }

  /** How many write transactions this store has committed; with group commit, at most one per batch. */
  get commitCount(): number {
    return this.commits;
  }

  /** How many times the LISTEN connection was established (1 after opening, plus one per reconnection). */
  get listenerConnectCount(): number {
    return this.listener.connectCount;
  }

  async append(streamId: string, events: readonly EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    if (this.state !== 'open') throw new EventStoreClosedError();
    const result = this.queue.enqueue(prepareAppend(streamId, events, options));
    this.scheduleFlush();
    return result;
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertReadable();
    assertBound('fromRevision', options.fromRevision);
    assertReadOptions(options.maxCount, undefined, options.direction);
    if (!isStorable(streamId)) return;
    const backwards = options.direction === 'backwards';
    const statement = backwards ? this.sql.streamBackwards : this.sql.streamForwards;
    let from = clampToInt8(options.fromRevision ?? (backwards ? MAX_INT8 : 0n));
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      this.assertReadable();
      const limit = Math.min(READ_PAGE_SIZE, remaining);
      const { rows } = await this.pool.query<EventRow>(statement, [streamId, from.toString(), limit]);
      for (const row of rows) yield toRecordedEvent(row);
      if (rows.length < limit) return;
      remaining -= rows.length;
      const last = toBigInt(rows[rows.length - 1]!.revision, 'revision');
      if (backwards && last === 0n) return;
      from = backwards ? last - 1n : last + 1n;
    }
  }

  readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    return readLogPages(this.assertReadableNow, this.logPageReader, options);
  }

  subscribe(options: SubscribeOptions = {}): Subscription {
    return subscribeToLogPages(this.assertReadableNow, this.logPageReader, options, this.pollIntervalMs, this.subscriptions);
  }

  async streamRevision(streamId: string): Promise<bigint | undefined> {
    this.assertReadable();
    if (!isStorable(streamId)) return undefined;
    const { rows } = await this.pool.query<{ revision: string }>(this.sql.streamRevision, [streamId]);
    return rows[0] === undefined ? undefined : toBigInt(rows[0].revision, 'revision');
  }

  async findCommand(key: string): Promise<CommandRecord | undefined> {
    this.assertReadable();
    if (!isStorable(key)) return undefined;
    const { rows } = await this.pool.query<CommandRow>(this.sql.command, [key]);
    return rows[0] === undefined ? undefined : toCommandRecord(rows[0]);
  }

  async headPosition(): Promise<bigint | undefined> {
    this.assertReadable();
    return this.queryLogHead();
  }

  /** Commits every queued append, ends the subscriptions and the LISTEN connection, then the pool. Idempotent. */
  close(): Promise<void> {
    this.closePromise ??= this.closeNow();
    return this.closePromise;
  }

  private async closeNow(): Promise<void> {
    this.state = 'closing';
    while (this.flushing !== undefined) await this.flushing;
    this.state = 'closed';
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.listener.close();
    // end() waits for connections still serving a read to be returned to the pool.
    await this.pool.end();
  }

  private assertReadable(): void {
    if (this.state === 'closed') throw new EventStoreClosedError();
  }

  private signalSubscriptions(): void {
    for (const subscription of this.subscriptions) subscription.notify();
  }

  // ---- group commit -------------------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushing !== undefined) return;
    this.flushing = this.flushQueued().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  /** Commits batches until the queue is empty; appends made during a commit join the next batch. */
  private async flushQueued(): Promise<void> {
    // One turn of the event loop first, so that appends made together join one commit.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) await this.flushBatch(this.queue.takeBatch());
  }

  /** Settles every append of the batch, and only once the commit that holds them has returned. Never throws. */
  private async flushBatch(batch: readonly PendingAppend[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.commitBatch(batch);
    } catch (error) {
      // The transaction is lost, or its commit failed: nothing of the batch was written (or, if the connection
      // broke during COMMIT, possibly all of it; a retry with the same event ids then returns the stored result).
      rejectBatch(batch, error);
      return;
    }
    settleBatch(batch, outcomes);
    if (outcomes.some((outcome) => outcome.ok && outcome.written)) this.signalSubscriptions();
  }

  /** Runs the batch's transaction on one pooled connection; a connection that saw a fault is discarded. */
  private async commitBatch(batch: readonly PendingAppend[]): Promise<Outcome[]> {
    const client = await this.pool.connect();
    let fault: Error | undefined;
    // A checked-out client has no error listener; a dropped socket would otherwise crash the process.
    const onError = (error: Error): void => {
      fault = error;
    };
    client.on('error', onError);
    try {
      return await this.commitWithoutFailedWrites(client, batch);
    } catch (error) {
      fault ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(fault);
    }
  }

  /**
   * Runs the batch's transaction; when the server fails the write of one append, runs it again without that
   * append. Each run sets one more append aside, so there are at most batch.length + 1 runs.
   */
  private async commitWithoutFailedWrites(client: PoolClient, batch: readonly PendingAppend[]): Promise<Outcome[]> {
    const failedWrites = new Map<number, unknown>();
    for (;;) {
      try {
        return await this.runTransaction(client, batch, failedWrites);
      } catch (error) {
        if (!(error instanceof AppendWriteFailure)) throw error;
        // An append that failed is never written again, so its index cannot fail twice.
        if (failedWrites.has(error.index)) throw new Error(`append ${error.index} of the batch was written twice`);
        failedWrites.set(error.index, error.reason);
      }
    }
  }

  /** One transaction for the whole batch; throws, having rolled back, when a write or the transaction fails. */
  private async runTransaction(
    client: PoolClient,
    batch: readonly PendingAppend[],
    failedWrites: ReadonlyMap<number, unknown>,
  ): Promise<Outcome[]> {
    const startedMs = this.commitObserver === undefined ? 0 : performance.now();
    // Taken before the state is read: positions are assigned and committed in order (THE GLOBAL ORDER).
    await client.query(this.sql.beginAndLock);
    try {
      const state = await this.readBatchState(client, batch);
      const outcomes: Outcome[] = [];
      for (const [index, pending] of batch.entries()) {
        outcomes.push(
          failedWrites.has(index)
            ? { ok: false, error: failedWrites.get(index) }
            : await this.appendInTransaction(client, pending.append, state, index),
        );
      }
      const written = outcomes.some((outcome) => outcome.ok && outcome.written);
      const commitStartedMs = this.commitObserver === undefined ? 0 : performance.now();
      await client.query(written ? this.sql.notifyAndCommit : 'COMMIT');
      this.commits += 1;
      if (this.commitObserver !== undefined) reportCommit(this.commitObserver, batch, startedMs, commitStartedMs);
      return outcomes;
    } catch (error) {
      const rolledBack = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      // Without a working connection the transaction is lost, not one append: the whole batch fails with the error.
      if (error instanceof AppendWriteFailure && !rolledBack) throw error.reason;
      throw error;
    }
  }

  private async readBatchState(client: PoolClient, batch: readonly PendingAppend[]): Promise<BatchState> {
    const streamIds = [...new Set(batch.map(({ append }) => append.streamId))];
    const eventIds = batch.flatMap(({ append }) => append.events.map((event) => event.eventId));
    const commandKeys = batch.flatMap(({ append }) => (append.options.command === undefined ? [] : [append.options.command.key]));
    const { rows } = await client.query<BatchStateRow>(this.sql.batchState, [streamIds, eventIds, commandKeys]);
    return toBatchState(rows[0]!);
  }

  private async appendInTransaction(client: PoolClient, append: PreparedAppend, state: BatchState, index: number): Promise<Outcome> {
    const decision = decideAppend(append, state);
    switch (decision.kind) {
      case 'refuse':
        return { ok: false, error: decision.error };
      case 'stored':
        return { ok: true, result: decision.result, written: false };
      case 'write':
        try {
          await this.writeAppend(client, decision);
        } catch (error) {
          throw new AppendWriteFailure(index, error);
        }
        recordWrite(state, decision);
        return { ok: true, result: decision.result, written: true };
    }
  }

  /** One statement for the usual append; a very large one takes a statement per chunk of events first. */
  private async writeAppend(client: PoolClient, { result, events, command }: WriteDecision): Promise<void> {
    const chunks = insertChunks(events);
    for (const [index, chunk] of chunks.entries()) {
      const rows = eventColumns(result.streamId, chunk);
      if (index < chunks.length - 1) {
        const inserted = await client.query(this.sql.insertEvents, rows);
        assertInserted(inserted.rowCount ?? 0, chunk.length);
        continue;
      }
      const inserted = await client.query<{ inserted: number }>(this.sql.insertEventsAndHead, [
        ...rows,
        result.nextRevision.toString(),
        events[events.length - 1]!.hash,
        command?.key ?? null,
        command?.requestHash ?? null,
        result.position.toString(),
        JSON.stringify(result.eventIds),
      ]);
      assertInserted(inserted.rows[0]?.inserted ?? 0, chunk.length);
    }
  }

  // ---- reads --------------------------------------------------------------------------------------------------

  private async queryLogHead(): Promise<bigint | undefined> {
    const { rows } = await this.pool.query<{ position: string | null }>(this.sql.logHead);
    const head = rows[0]?.position ?? null;
    return head === null ? undefined : toBigInt(head, 'position');
  }

  /**
   * The next committed events after a position that match the filter, looking at most at SCAN_WINDOW_POSITIONS
   * positions. Every snapshot sees a prefix of the log (THE GLOBAL ORDER), and the query reads the head and the
   * page from one snapshot, so every position up to the head is there to be read.
   */
  private async readLogPage(afterPosition: bigint, filter: EventFilter | undefined, limit: number): Promise<LogPage> {
    this.assertReadable();
    const nothing: LogPage = { events: [], scannedThrough: afterPosition, reachedHead: true };
    // No position lies beyond the largest int8, and such a bound would not fit the query.
    if (afterPosition >= MAX_INT8) return nothing;
    const after = afterPosition < 0n ? 0n : afterPosition;
    const windowEnd = clampToInt8(after + BigInt(SCAN_WINDOW_POSITIONS));
    const { rows } = await this.pool.query<LogPageRow>(this.sql.logPage, [
      after.toString(),
      windowEnd.toString(),
      storableList(filter?.eventTypes),
      storableList(filter?.streamPrefixes),
      limit,
    ]);
    const headText = rows[0]?.head ?? null;
    const head = headText === null ? undefined : toBigInt(headText, 'position');
    if (head === undefined || afterPosition >= head) return nothing;
    const events = rows.filter(holdsEvent).map(toRecordedEvent);
    const upper = windowEnd < head ? windowEnd : head;
    // A full page may stop before the window's end: continue from its last event, not from the window's end.
    const scannedThrough = events.length === limit ? events[events.length - 1]!.position : upper;
    return { events, scannedThrough, reachedHead: scannedThrough === head };
  }
}

// ---- pure helpers ---------------------------------------------------------------------------------------------

/** The stream id and the column arrays of the INSERT ... SELECT FROM unnest(...) statements. */
function eventColumns(streamId: string, chunk: readonly ChainedEvent[]): [string, ...string[][]] {
  return [
    streamId,
    chunk.map((event) => event.position.toString()),
    chunk.map((event) => event.eventId),
    chunk.map((event) => event.revision.toString()),
    chunk.map((event) => event.type),
    chunk.map((event) => event.dataJson),
    chunk.map((event) => event.metadataJson),
  ];
}

function assertInserted(inserted: number, expected: number): void {
  if (inserted !== expected) throw new Error(`inserted ${inserted} events of ${expected}; the append is not written`);
}

/**
 * PostgreSQL text cannot hold NUL, and a lone surrogate would be sent as U+FFFD and match another name. Appends
 * refuse both, so a name holding one names nothing stored: reads answer "nothing" without asking the server.
 */
function isStorable(text: string): boolean {
  return typeof text === 'string' && !UNSTORABLE_CHARACTERS.test(text);
}

/** A filter list for SQL: null for "no filter"; items no stored name can match are dropped. */
function storableList(list: readonly string[] | undefined): string[] | null {
  return list === undefined ? null : list.filter(isStorable);
}

/** A read bound: beyond the largest int8 no row can exist, so clamping does not change the result. */
function clampToInt8(value: bigint): bigint {
  return value > MAX_INT8 ? MAX_INT8 : value;
}
