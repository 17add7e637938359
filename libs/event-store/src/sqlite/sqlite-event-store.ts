import type Database from 'better-sqlite3';
import {
  assertBound,
  assertReadOptions,
  prepareAppend,
  storedMetadataJson,
  type PreparedAppend,
  type PreparedEvent,
} from '../append-validation';
import { CommandAlreadyRecordedError, EventStoreClosedError, WrongExpectedRevisionError } from '../errors';
import type {
  AppendOptions,
  AppendResult,
  CommandRecord,
  CommitObserver,
  CommandRecordToWrite,
  EventFilter,
  EventMetadata,
  EventStore,
  EventToAppend,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store.port';
import { reportCommit } from '../commit-report';
import {
  type AppendOutcome,
  AppendQueue,
  MAX_APPENDS_PER_COMMIT,
  MAX_EVENTS_PER_COMMIT,
  type PendingAppend,
  rejectBatch,
  revisionMatches,
  settleBatch,
  storedAppend,
} from '../group-commit';
import { eventHash, GENESIS_HASH } from '../hash-chain';
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
import { commandRecordOf, recordedEventOf, type StoredCommandRow, type StoredEventRow } from '../stored-rows';
import { openReader, openWriter } from './sqlite-schema';

/** The bounds this adapter shares with the PostgreSQL one, exported here as before. */
export { MAX_APPENDS_PER_COMMIT, MAX_EVENTS_PER_COMMIT, READ_PAGE_SIZE, SCAN_WINDOW_POSITIONS };
/** How often an idle subscription looks for events appended by another process on the same file. */
export const SUBSCRIPTION_POLL_INTERVAL_MS = 250;

/** Commits by every SQLite event store of this process (another store on the same file is another connection). */
let processCommits = 0;
/** Stream heads kept in memory (about 150 bytes each), so most appends need no read before their insert. */
const MAX_REMEMBERED_HEADS = 100_000;
/** Streams a change token is kept for (the platform, incidents, prices: a handful in practice). */
const MAX_WATCHED_STREAMS = 10_000;

export interface SqliteEventStoreOptions {
  /** Path of the database file; its folder is created if missing. */
  readonly path: string;
  /** Defaults to SUBSCRIPTION_POLL_INTERVAL_MS. Commits by this store wake its subscriptions at once anyway. */
  readonly subscriptionPollIntervalMs?: number;
}

/** The connection settings that durability and multi-process access rely on, as SQLite reports them. */
export interface SqliteConnectionSettings {
  readonly journalMode: string;
  /** 2 is FULL. */
  readonly synchronous: number;
  readonly busyTimeoutMs: number;
  readonly schemaVersion: number;
}

export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  return new SqliteEventStore(options);
}

type EventRow = StoredEventRow<number>;

interface HeadRow {
  readonly revision: number;
  readonly last_hash: string;
}

interface StoredIdRow {
  readonly stream_id: string;
  readonly revision: number;
  readonly position: number;
}

type CommandRow = StoredCommandRow<number>;

interface LogPageParams {
  readonly after: number;
  readonly upper: number;
  readonly limit: number;
  /** JSON arrays, or null for "no filter". */
  readonly types: string | null;
  readonly prefixes: string | null;
}

const EVENT_COLUMNS = 'position, event_id, stream_id, revision, type, data, metadata';
const LEAN_EVENT_COLUMNS = 'position, stream_id, revision, type, data';

/** The columns of LEAN_EVENT_COLUMNS, in order. */
type LeanEventTuple = [position: number, streamId: string, revision: number, type: string, data: string];

/** The next events after a position, within a window of positions (which keeps the query on the primary key). */
function logPageSql(columns: string): string {
  return `SELECT ${columns} FROM events
     WHERE position > @after AND position <= @upper
       AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))
       AND (@prefixes IS NULL OR EXISTS (
         SELECT 1 FROM json_each(@prefixes) AS prefix WHERE substr(stream_id, 1, length(prefix.value)) = prefix.value))
     ORDER BY position ASC LIMIT @limit`;
}

function prepareWrites(db: Database.Database) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT append'),
    release: db.prepare('RELEASE append'),
    rollbackToSavepoint: db.prepare('ROLLBACK TO append'),
    selectHead: db.prepare<[string], HeadRow>('SELECT revision, last_hash FROM streams WHERE stream_id = ?'),
    // Changes whenever another connection (this process's or another's) has committed to the file.
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    selectEventById: db.prepare<[string], StoredIdRow>('SELECT stream_id, revision, position FROM events WHERE event_id = ?'),
    selectCommand: db.prepare<[string], CommandRow>('SELECT * FROM commands WHERE key = ?'),
    insertEvent: db.prepare<[string, string, number, string, string, string]>(
      'INSERT INTO events (event_id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    // The head is recorded apart from the events, so that events removed from a stream's end are noticed (audit).
    upsertHead: db.prepare<[string, number, string]>(
      `INSERT INTO streams (stream_id, revision, last_hash) VALUES (?, ?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, last_hash = excluded.last_hash`,
    ),
    insertCommand: db.prepare<[string, string, string, number, number, string]>(
      'INSERT INTO commands (key, request_hash, stream_id, next_revision, position, event_ids) VALUES (?, ?, ?, ?, ?, ?)',
    ),
  };
}

function prepareReads(db: Database.Database) {
  return {
    streamForwards: db.prepare<[string, number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`,
    ),
    streamBackwards: db.prepare<[string, number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
    ),
    // The position range keeps the query on the primary key; the filters then only look at that window.
    logPage: db.prepare<LogPageParams, EventRow>(logPageSql(EVENT_COLUMNS)),
    // The same page without the metadata column (about half of each row's bytes), for readers that skip it.
    // Rows as arrays (raw): no object per row to build and throw away.
    logPageLean: db.prepare<LogPageParams, LeanEventTuple>(logPageSql(LEAN_EVENT_COLUMNS)).raw(true),
    detailsAt: db.prepare<[number], { event_id: string; metadata: string }>('SELECT event_id, metadata FROM events WHERE position = ?'),
    headPosition: db.prepare<[], { position: number | null }>('SELECT max(position) AS position FROM events'),
    streamRevision: db.prepare<[string], { revision: number }>('SELECT revision FROM streams WHERE stream_id = ?'),
    selectCommand: db.prepare<[string], CommandRow>('SELECT * FROM commands WHERE key = ?'),
  };
}

/**
 * The embedded event store: one SQLite file in WAL mode, one connection that writes and one that reads.
 *
 * better-sqlite3 is synchronous, so a commit blocks the event loop for its fsync. To pay that once for many
 * appends, appends made in the same turn of the event loop are queued and committed together (group commit), and
 * each keeps its own checks and its own success or failure. An append of several events runs inside its own
 * savepoint, and so does any append that needs the full checks (one with a command record, one whose expected
 * revision does not match the stream's head, one whose insert a unique index refused). A single event on the common
 * path gets none: a savepoint costs a statement journal, and its failed INSERT leaves nothing behind; should a later
 * write of it fail, the whole batch fails (see tryInsert).
 */
export class SqliteEventStore implements EventStore {
  readonly path: string;
  private readonly pollIntervalMs: number;
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writes: ReturnType<typeof prepareWrites>;
  private readonly reads: ReturnType<typeof prepareReads>;
  private readonly subscriptions = new Set<PollingSubscription>();
  private readonly queue = new AppendQueue();
  private flushHandle: NodeJS.Immediate | undefined;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closePromise: Promise<void> | undefined;
  private commits = 0;
  private commitObserver: CommitObserver | undefined;
  /** Event rows this store's connection has inserted (including ones rolled back since); tells tryInsert what it wrote. */
  private eventsInserted = 0;
  /** Heads of streams this connection wrote or read while writing; trusted only while no other connection writes. */
  private readonly heads = new Map<string, HeadRow>();
  private seenDataVersion: number | undefined;
  private cachedDataVersion: number | undefined;
  private cachedOthersCommits = 0;
  private cacheClearQueued = false;
  /** Counts this store's appends; never goes back, so a token once seen is never seen again after a change. */
  private appendSeq = 0;
  /** Streams someone asked a change token for, with the appendSeq of their last change (or of the first ask). */
  private readonly watched = new Map<string, number>();
  private readonly assertReadableNow = (): void => this.assertReadable();
  private readonly logPageReader: LogPageReader = (after, filter, limit, metadataOnAccess) =>
    this.readLogPage(after, filter, limit, metadataOnAccess);
  private readonly detailsReader = (position: number): EventDetails => {
    this.assertReadable();
    const row = this.reads.detailsAt.get(position);
    if (row === undefined) throw new Error(`no event at position ${position}`);
    return { eventId: row.event_id, metadata: JSON.parse(row.metadata) as EventMetadata };
  };

  constructor(options: SqliteEventStoreOptions) {
    const { path, subscriptionPollIntervalMs = SUBSCRIPTION_POLL_INTERVAL_MS } = options;
    if (path === '' || path === ':memory:') {
      // Each connection would get its own empty in-memory database, and nothing would be durable.
      throw new Error('the sqlite event store needs a file path');
    }
    assertPollInterval(subscriptionPollIntervalMs);
    this.path = path;
    this.pollIntervalMs = subscriptionPollIntervalMs;
    this.writer = openWriter(path);
    try {
      this.reader = openReader(path);
    } catch (error) {
      this.writer.close();
      throw error;
    }
    this.writes = prepareWrites(this.writer);
    this.reads = prepareReads(this.reader);
  }

  observeCommits(observer: CommitObserver): void {
    this.commitObserver = observer;
  }

  /** How many write transactions this store has committed; with group commit, at most one per flush. */
  get commitCount(): number {
    return this.commits;
  }

  async append(streamId: string, events: readonly EventToAppend[], options: AppendOptions): Promise<AppendResult> {
    if (this.state !== 'open') throw new EventStoreClosedError();
    const result = this.queue.enqueue(prepareAppend(streamId, events, options));
    this.flushHandle ??= setImmediate(() => this.flushScheduled());
    return result;
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    this.assertReadable();
    assertBound('fromRevision', options.fromRevision);
    assertReadOptions(options.maxCount, undefined, options.direction);
    const backwards = options.direction === 'backwards';
    const statement = backwards ? this.reads.streamBackwards : this.reads.streamForwards;
    let from = toSqlBound(options.fromRevision ?? (backwards ? BigInt(Number.MAX_SAFE_INTEGER) : 0n));
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      this.assertReadable();
      const limit = Math.min(READ_PAGE_SIZE, remaining);
      // all(), not iterate(): no statement may stay open across a yield on this connection.
      const rows = statement.all(streamId, from, limit);
      for (const row of rows) yield toRecordedEvent(row);
      if (rows.length < limit) return;
      remaining -= rows.length;
      from = rows[rows.length - 1]!.revision + (backwards ? -1 : 1);
    }
  }

  readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    return readLogPages(this.assertReadableNow, this.logPageReader, options);
  }

  subscribe(options: SubscribeOptions = {}): Subscription {
    return subscribeToLogPages(this.assertReadableNow, this.logPageReader, options, this.pollIntervalMs, this.subscriptions);
  }

  /**
   * The writer's data_version (reading it takes a read lock: about 10 µs), kept only until the microtasks queued
   * with it have run: the commands that decide together in one burst of microtasks share one read, and anything
   * that runs later (another callback, another request) reads again, so a commit by another process acknowledged
   * before it began is always seen. A commit by another store of this process (another connection to the file, as
   * in tests) drops the kept value at once, whenever it happens.
   */
  private dataVersionNow(): number {
    const othersCommits = processCommits - this.commits;
    if (this.cachedDataVersion === undefined || this.cachedOthersCommits !== othersCommits) {
      this.cachedDataVersion = this.writes.dataVersion.get()!;
      this.cachedOthersCommits = othersCommits;
      if (!this.cacheClearQueued) {
        this.cacheClearQueued = true;
        queueMicrotask(() => {
          this.cachedDataVersion = undefined;
          this.cacheClearQueued = false;
        });
      }
    }
    return this.cachedDataVersion;
  }

  /**
   * Same value twice only if nothing was appended to the stream in between: by this store (counted as it
   * appends) or by any other connection to the file (SQLite's data_version, which any commit by another
   * connection changes). Lets a caller keep a folded stream without reading it again before every decision.
   */
  streamChangeToken(streamId: string): string {
    this.assertReadable();
    let changedAt = this.watched.get(streamId);
    if (changedAt === undefined) {
      if (this.watched.size >= MAX_WATCHED_STREAMS) this.watched.delete(this.watched.keys().next().value!);
      // Nothing this store appended since appendSeq can be missed: any later append moves appendSeq on.
      changedAt = this.appendSeq;
      this.watched.set(streamId, changedAt);
    }
    return `${this.dataVersionNow()}:${changedAt}`;
  }

  /**
   * The head this connection remembers, trusted only while no other connection has committed since this one last
   * held the write lock (SQLite's data_version is then what it was inside that transaction): nobody else can have
   * appended to the stream since. Undefined otherwise, and for streams this connection has not written.
   */
  knownStreamRevision(streamId: string): bigint | undefined {
    this.assertReadable();
    const head = this.heads.get(streamId);
    if (head === undefined || this.seenDataVersion === undefined) return undefined;
    return this.dataVersionNow() === this.seenDataVersion ? BigInt(head.revision) : undefined;
  }

  async streamRevision(streamId: string): Promise<bigint | undefined> {
    this.assertReadable();
    const row = this.reads.streamRevision.get(streamId);
    return row === undefined ? undefined : toBigInt(row.revision, 'revision');
  }

  async findCommand(key: string): Promise<CommandRecord | undefined> {
    this.assertReadable();
    const row = this.reads.selectCommand.get(key);
    return row === undefined ? undefined : toCommandRecord(row);
  }

  async headPosition(): Promise<bigint | undefined> {
    this.assertReadable();
    const head = this.reads.headPosition.get()?.position ?? null;
    return head === null ? undefined : toBigInt(head, 'position');
  }

  /** Commits every queued append, ends the subscriptions, then closes both connections. Idempotent. */
  close(): Promise<void> {
    this.closePromise ??= this.closeNow();
    return this.closePromise;
  }

  /** The pragmas of the writing connection, for operators and tests. */
  connectionSettings(): SqliteConnectionSettings {
    this.assertReadable();
    const pragma = (name: string): unknown => this.writer.pragma(name, { simple: true });
    return {
      journalMode: String(pragma('journal_mode')),
      synchronous: Number(pragma('synchronous')),
      busyTimeoutMs: Number(pragma('busy_timeout')),
      schemaVersion: Number(pragma('user_version')),
    };
  }

  private async closeNow(): Promise<void> {
    this.state = 'closing';
    if (this.flushHandle !== undefined) clearImmediate(this.flushHandle);
    this.flushHandle = undefined;
    while (this.queue.length > 0) this.flushBatch(this.queue.takeBatch());
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    this.state = 'closed';
    this.reader.close();
    this.writer.close();
  }

  private assertReadable(): void {
    if (this.state === 'closed') throw new EventStoreClosedError();
  }

  // ---- group commit -------------------------------------------------------------------------------------------

  private flushScheduled(): void {
    this.flushHandle = undefined;
    this.flushBatch(this.queue.takeBatch());
    // Appends beyond the batch bound go to the next turn, after the ones queued in the meantime had a chance to join.
    if (this.queue.length > 0) this.flushHandle = setImmediate(() => this.flushScheduled());
  }

  /** Settles every append of the batch, and only once the commit that holds them has returned. */
  private flushBatch(batch: readonly PendingAppend[]): void {
    let outcomes: AppendOutcome[];
    try {
      outcomes = this.commitBatch(batch);
    } catch (error) {
      rejectBatch(batch, error);
      return;
    }
    settleBatch(batch, outcomes);
    if (outcomes.some((outcome) => outcome.ok)) {
      for (const subscription of this.subscriptions) subscription.notify();
    }
  }

  /** One transaction for the whole batch; throws, having rolled back, when the transaction itself fails. */
  private commitBatch(batch: readonly PendingAppend[]): AppendOutcome[] {
    const startedMs = this.commitObserver === undefined ? 0 : performance.now();
    this.writes.begin.run();
    try {
      // Holding the write lock: if another connection committed since this one last looked, the heads it knows
      // may be stale. Nobody else can commit until this transaction ends.
      const version = this.writes.dataVersion.get()!;
      if (version !== this.seenDataVersion) {
        this.heads.clear();
        this.seenDataVersion = version;
      }
      const outcomes = batch.map((pending) => this.applyAppend(pending.append));
      const commitStartedMs = this.commitObserver === undefined ? 0 : performance.now();
      this.writes.commit.run();
      this.commits += 1;
      processCommits += 1;
      if (this.commitObserver !== undefined) reportCommit(this.commitObserver, batch, startedMs, commitStartedMs);
      return outcomes;
    } catch (error) {
      // Heads learnt inside the transaction are gone with it.
      this.heads.clear();
      // SQLite rolls back by itself after some errors (disk full, I/O); only roll back what is still open.
      if (this.writer.inTransaction) this.writes.rollback.run();
      throw error;
    }
  }

  /**
   * One append inside the batch's transaction. The common case (no idempotency record, the stream's head known
   * and matching the expected revision) inserts straight away: the unique indexes on event id and (stream,
   * revision) still refuse anything the checks skipped, and such a refusal falls back to the full checks.
   */
  private applyAppend(append: PreparedAppend): AppendOutcome {
    if (append.options.command === undefined) {
      const head = this.headOf(append.streamId);
      if (revisionMatches(append.options.expectedRevision, head === undefined ? undefined : BigInt(head.revision))) {
        const outcome = this.tryInsert(append, head);
        if (outcome !== undefined) return outcome;
      }
    }
    return this.appendInSavepoint(append);
  }

  /**
   * Inserts the events after `head`. Undefined (nothing written) when a unique index refused one of them, for the
   * full checks to decide; any other failure fails this append alone, unless it took the whole transaction with it.
   *
   * Several events get a savepoint. A single event does not (a savepoint copies every page the append then changes
   * into a statement journal: measured, 30% more CPU per command with 64 in flight): its event INSERT is its first
   * write, and a failed statement leaves nothing behind. Should a later write of it fail (the stream head's upsert,
   * which no index can refuse: only I/O could), the event row could not be taken back alone, so the whole batch fails.
   */
  private tryInsert(append: PreparedAppend, head: HeadRow | undefined): AppendOutcome | undefined {
    const single = append.events.length === 1;
    if (!single) this.writes.savepoint.run();
    const insertedBefore = this.eventsInserted;
    try {
      const result = this.insertEvents(append.streamId, append.events, head);
      if (!single) this.writes.release.run();
      return { ok: true, result };
    } catch (error) {
      this.heads.delete(append.streamId);
      if (!this.writer.inTransaction) throw error;
      if (!single) {
        this.writes.rollbackToSavepoint.run();
        this.writes.release.run();
      } else if (this.eventsInserted !== insertedBefore) {
        throw error;
      }
      return isConstraintViolation(error) ? undefined : { ok: false, error };
    }
  }

  /** The full checks, inside a savepoint so that a refused append leaves the batch's other appends alone. */
  private appendInSavepoint(append: PreparedAppend): AppendOutcome {
    this.writes.savepoint.run();
    try {
      const result = this.checkedAppend(append);
      this.writes.release.run();
      return { ok: true, result };
    } catch (error) {
      this.heads.delete(append.streamId);
      // The whole transaction is gone: the batch fails as one (commitBatch rejects every append).
      if (!this.writer.inTransaction) throw error;
      // Undo only this append's writes; the other appends of the batch keep theirs.
      this.writes.rollbackToSavepoint.run();
      this.writes.release.run();
      return { ok: false, error };
    }
  }

  /** The stream's last revision and hash: remembered from this connection's own commits, else read. */
  private headOf(streamId: string): HeadRow | undefined {
    const known = this.heads.get(streamId);
    if (known !== undefined) return known;
    const head = this.writes.selectHead.get(streamId);
    if (head !== undefined) this.rememberHead(streamId, head);
    return head;
  }

  private rememberHead(streamId: string, head: HeadRow): void {
    this.heads.delete(streamId);
    this.heads.set(streamId, head);
    if (this.heads.size > MAX_REMEMBERED_HEADS) {
      const oldest = this.heads.keys().next().value;
      if (oldest !== undefined) this.heads.delete(oldest);
    }
  }

  // ---- one append, inside the write transaction ---------------------------------------------------------------

  private checkedAppend({ streamId, events, options }: PreparedAppend): AppendResult {
    if (options.command !== undefined) this.assertCommandNotRecorded(options.command.key);
    const stored = this.findStoredAppend(streamId, events);
    if (stored !== undefined) return stored;
    const head = this.writes.selectHead.get(streamId);
    const current = head === undefined ? undefined : toBigInt(head.revision, 'revision');
    if (!revisionMatches(options.expectedRevision, current)) {
      throw new WrongExpectedRevisionError(streamId, options.expectedRevision, current);
    }
    const result = this.insertEvents(streamId, events, head);
    if (options.command !== undefined) this.insertCommand(options.command, result);
    return result;
  }

  private assertCommandNotRecorded(key: string): void {
    const row = this.writes.selectCommand.get(key);
    if (row !== undefined) throw new CommandAlreadyRecordedError(toCommandRecord(row));
  }

  /**
   * When the events are already stored, as consecutive revisions of this stream in this order, this is a retry
   * of an append that succeeded: its result, without writing. Any other overlap is refused.
   */
  private findStoredAppend(streamId: string, events: readonly PreparedEvent[]): AppendResult | undefined {
    const found = storedAppend(streamId, events.map((event) => event.eventId), (eventId) => {
      const row = this.writes.selectEventById.get(eventId);
      if (row === undefined) return undefined;
      return { streamId: row.stream_id, revision: toBigInt(row.revision, 'revision'), position: toBigInt(row.position, 'position') };
    });
    if (found instanceof Error) throw found;
    return found;
  }

  /** Writes the events after `head`, chaining their hashes, and remembers the stream's new head. */
  private insertEvents(streamId: string, events: readonly PreparedEvent[], head: HeadRow | undefined): AppendResult {
    let revision = head === undefined ? -1 : head.revision;
    let prevHash = head === undefined ? GENESIS_HASH : head.last_hash;
    let position = 0;
    const eventIds: string[] = [];
    for (const event of events) {
      revision += 1;
      const hash = eventHash({ ...event, streamId, revision: BigInt(revision), prevHash });
      const metadataJson = storedMetadataJson(event, prevHash, hash);
      const inserted = this.writes.insertEvent.run(event.eventId, streamId, revision, event.type, event.dataJson, metadataJson);
      this.eventsInserted += 1;
      const insertedPosition = toSafeNumber(inserted.lastInsertRowid, 'position');
      // Positions only grow; a smaller one would let a subscription skip or repeat events.
      if (insertedPosition <= position) throw new Error(`position ${insertedPosition} is not after ${position}`);
      position = insertedPosition;
      prevHash = hash;
      eventIds.push(event.eventId);
    }
    this.writes.upsertHead.run(streamId, toSafeNumber(revision, 'revision'), prevHash);
    this.rememberHead(streamId, { revision, last_hash: prevHash });
    this.appendSeq += 1;
    if (this.watched.has(streamId)) this.watched.set(streamId, this.appendSeq);
    return { streamId, nextRevision: BigInt(revision), position: BigInt(position), eventIds };
  }

  private insertCommand(command: CommandRecordToWrite, result: AppendResult): void {
    this.writes.insertCommand.run(
      command.key,
      command.requestHash,
      result.streamId,
      toSafeNumber(result.nextRevision, 'revision'),
      toSafeNumber(result.position, 'position'),
      JSON.stringify(result.eventIds),
    );
  }

  // ---- reads --------------------------------------------------------------------------------------------------

  /**
   * The next committed events after a position that match the filter, looking at most at SCAN_WINDOW_POSITIONS
   * positions. The head is read first: every position up to it is committed, because SQLite has a single writer
   * that assigns positions inside its transaction.
   */
  private readLogPage(afterPosition: bigint, filter: EventFilter | undefined, limit: number, metadataOnAccess: boolean): LogPage {
    this.assertReadable();
    const head = this.reads.headPosition.get()?.position ?? null;
    const after = toSqlBound(afterPosition);
    if (head === null || after >= head) return { events: [], scannedThrough: afterPosition, reachedHead: true };
    const upper = Math.min(after + SCAN_WINDOW_POSITIONS, head);
    const params: LogPageParams = {
      after,
      upper,
      limit,
      types: filter?.eventTypes === undefined ? null : JSON.stringify(filter.eventTypes),
      prefixes: filter?.streamPrefixes === undefined ? null : JSON.stringify(filter.streamPrefixes),
    };
    let events: RecordedEvent[];
    let lastPosition: number | undefined;
    if (metadataOnAccess) {
      const rows = this.reads.logPageLean.all(params);
      const details = this.detailsReader;
      events = rows.map((row) => new DetailsOnAccessEvent(row, details));
      lastPosition = rows[rows.length - 1]?.[0];
    } else {
      const rows = this.reads.logPage.all(params);
      events = rows.map(toRecordedEvent);
      lastPosition = rows[rows.length - 1]?.position;
    }
    // A full page may stop before the window's end: continue from its last event, not from the window's end.
    const scannedThrough = events.length === limit ? lastPosition! : upper;
    return { events, scannedThrough: BigInt(scannedThrough), reachedHead: scannedThrough === head };
  }
}

function isConstraintViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}

interface EventDetails {
  readonly eventId: string;
  readonly metadata: EventMetadata;
}

/**
 * On an event read with `metadataOnAccess`, this adapter also offers its data as the JSON text it stored: a reader
 * that only hands the data on (to a worker thread) then sends the text, and `data` is parsed only when read. It is
 * this adapter's performance knob, not the port's: events of other adapters have no such field.
 */
export const STORED_DATA_JSON: unique symbol = Symbol('storedDataJson');

/** The stored JSON text of an event's data, when its adapter offers it (STORED_DATA_JSON); otherwise undefined. */
export function storedDataJson(event: RecordedEvent): string | undefined {
  return (event as RecordedEvent & { readonly [STORED_DATA_JSON]?: string })[STORED_DATA_JSON];
}

/**
 * An event read without its event id and metadata (the larger half of a row, which projections never look at):
 * both are read from the file, by position, when first accessed. The getters live on the prototype, so the event
 * costs no more to make than a plain one.
 */
const NOT_PARSED: unique symbol = Symbol('notParsed');

class DetailsOnAccessEvent implements RecordedEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly type: string;
  readonly #dataJson: string;
  #data: unknown = NOT_PARSED;
  #details: EventDetails | undefined;
  readonly #read: (position: number) => EventDetails;

  constructor(row: LeanEventTuple, read: (position: number) => EventDetails) {
    this.position = toBigInt(row[0], 'position');
    this.streamId = row[1];
    this.revision = toBigInt(row[2], 'revision');
    this.type = row[3];
    this.#dataJson = row[4];
    this.#read = read;
  }

  get data(): unknown {
    if (this.#data === NOT_PARSED) this.#data = JSON.parse(this.#dataJson) as unknown;
    return this.#data;
  }

  get [STORED_DATA_JSON](): string {
    return this.#dataJson;
  }

  get eventId(): string {
    return this.details().eventId;
  }

  get metadata(): EventMetadata {
    return this.details().metadata;
  }

  private details(): EventDetails {
    this.#details ??= this.#read(Number(this.position));
    return this.#details;
  }
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return recordedEventOf(row, toBigInt);
}

function toCommandRecord(row: CommandRow): CommandRecord {
  return commandRecordOf(row, toBigInt);
}

/** An integer read from SQLite; better-sqlite3 returns numbers, which are exact only up to 2^53 - 1. */
function toBigInt(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value)) throw new Error(`${what} ${String(value)} read from SQLite is not a safe integer`);
  return BigInt(value);
}

/** An integer written to SQLite: must be exact as a JavaScript number. */
function toSafeNumber(value: number | bigint, what: string): number {
  const number = Number(value);
  const exact = typeof value === 'bigint' ? BigInt(number) === value : true;
  if (!Number.isSafeInteger(number) || !exact) throw new Error(`${what} ${String(value)} is not a safe integer`);
  return number;
}

/** A read bound: beyond the largest safe integer no row can exist, so clamping does not change the result. */
function toSqlBound(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}
