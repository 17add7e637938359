import type { EventFilter, EventStore, RecordedEvent, Subscription } from '@app/event-store';
import type { Projection } from './projection';
import { recordedAtHighWater } from './as-of/recorded-at';
import { checkpointMatches, CheckpointMovedError, type ProjectionCommit, type ReadStore, type SnapshotMark } from './read-store.port';
import { RowCache } from './row-cache';

/** Events folded per commit while following the log (the API): small batches keep read-your-writes quick. */
export const DEFAULT_BATCH_SIZE = 2_000;
/**
 * Events folded per commit by a rebuild or a replay. A commit rewrites every row the batch changed, and the rows a
 * batch touches are spread over the whole read model (every account's balance), so fewer, larger commits write far
 * less: a rebuild of 1M events took 8.5 s in 100 commits of 10,000 events, 3.9 s in 4 of 250,000. Events are folded
 * as they are read, so a batch holds only the rows it changed in memory, and MAX_DIRTY_ROWS bounds those.
 */
export const BULK_BATCH_SIZE = 250_000;
export const MAX_BATCH_SIZE = 1_000_000;
/** Changed rows (all projections) after which a batch is committed early, whatever its size in events. */
export const MAX_DIRTY_ROWS = 100_000;
/** How often (in events) a batch counts its changed rows. */
const DIRTY_CHECK_EVERY = 1_024;
/** Clean rows one projection keeps in memory between batches; beyond it, the oldest half is evicted. */
export const DEFAULT_MAX_CACHED_ROWS = 100_000;
export const MAX_WAIT_UNTIL_MS = 60_000;
/** Rows one event may have to load before evolve can fold it (each load adds one row to the cache). */
const MAX_ROW_LOADS_PER_EVENT = 64;
/** Checkpoint conflicts in a row before a catch-up gives up: two runners of different versions would never agree. */
const MAX_CONSECUTIVE_CONFLICTS = 1_000;
/**
 * Events (of the types this runner reads) between two as-of snapshots of a projection that opts in: an as-of read
 * folds at most about this many events after the snapshot it starts from. Counted in events, not positions, since
 * positions are not dense on every store (EventStoreDB's are byte offsets).
 */
export const DEFAULT_ASOF_SNAPSHOT_EVERY = 10_000;
export const MAX_ASOF_SNAPSHOT_EVERY = 100_000_000;
/** How often waitUntil looks at checkpoints that another process may move. */
const WAIT_POLL_MS = 50;
const RETRY_MIN_DELAY_MS = 100;
const RETRY_MAX_DELAY_MS = 30_000;

export interface ProjectionLogger {
  log(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface ProjectionRunnerOptions {
  readonly store: EventStore;
  readonly readStore: ReadStore;
  readonly projections: readonly Projection[];
  /** Events folded per commit, 1 to MAX_BATCH_SIZE; DEFAULT_BATCH_SIZE when absent. */
  readonly batchSize?: number;
  /** Clean rows kept in memory per projection between batches; DEFAULT_MAX_CACHED_ROWS when absent. */
  readonly maxCachedRows?: number;
  readonly logger?: ProjectionLogger;
  /** Milliseconds since the epoch; only for lagSeconds. Projections never see it. */
  readonly now?: () => number;
  /**
   * Events between two as-of snapshots of each projection that opts in (`asOfSnapshots`), 1 to
   * MAX_ASOF_SNAPSHOT_EVERY; DEFAULT_ASOF_SNAPSHOT_EVERY when absent; null takes none (replays in memory).
   */
  readonly asOfSnapshotEvery?: number | null;
  /**
   * 'at-snapshot' (the default): each snapshot's recordedAt high-water is worked out from the one before (every
   * event's metadata read once more, about 5 µs an event on SQLite). 'on-read': left unknown, for the first as-of
   * read by instant to work out (a rebuild: it would otherwise take about half as long again).
   */
  readonly asOfHighWater?: 'at-snapshot' | 'on-read';
}

export interface CatchUpProgress {
  /** The checkpoint every projection has reached. */
  readonly position: bigint;
  /** Where this catch-up stops: the head when it began, or toPosition. */
  readonly targetPosition: bigint;
  readonly eventsRead: number;
}

export interface CatchUpOptions {
  /** Inclusive: stop there rather than at the head. */
  readonly toPosition?: bigint;
  readonly onProgress?: (progress: CatchUpProgress) => void;
}

export interface CatchUpResult {
  /** The lowest checkpoint of the projections afterwards; null when the log is empty. */
  readonly position: bigint | null;
  readonly eventsRead: number;
  readonly batches: number;
}

export interface ProjectionStatus {
  readonly name: string;
  readonly version: number;
  /** The stored checkpoint (null: nothing folded yet, or stored by another version). */
  readonly position: bigint | null;
  readonly headPosition: bigint | null;
  /** Log positions between the checkpoint and the head. */
  readonly lagEvents: bigint;
  /** How long this runner has seen the projection behind the head; 0 when caught up. */
  readonly lagSeconds: number;
}

/** What the batch pipeline folds: see foldBatch. */
interface Batch {
  readonly events: AsyncIterable<RecordedEvent> | Iterable<RecordedEvent>;
  readonly coveredFrom: bigint;
  readonly upTo: bigint;
  /** Whether a batch that ends at upTo has caught up with the log's head (lagSeconds is then 0). */
  readonly headAtUpTo: boolean;
}

interface BatchResult {
  readonly eventsRead: number;
  readonly applied: boolean;
  /** The position the batch's checkpoints moved to (coveredFrom when not applied). */
  readonly end: bigint;
}

interface Slot {
  readonly projection: Projection;
  readonly cache: RowCache;
  /** The checkpoint as this runner last read or committed it. */
  checkpoint: bigint | undefined;
  behindSinceMs: number | null;
  /** Whether this runner takes as-of snapshots of the projection. */
  readonly snapshots: boolean;
  /** Events folded since the last snapshot this runner took (or since it started). */
  eventsSinceSnapshot: number;
}

const silentLogger: ProjectionLogger = { log: () => undefined, error: () => undefined };

/**
 * Folds the global log into the read models exactly once: a crash never applies an event twice or skips one.
 *
 * Events are folded in batches into each projection's write-through cache; then every projection's changed rows
 * and its new checkpoint are committed in ONE transaction. A crash before the commit leaves the rows and the
 * checkpoint as they were, so the batch is folded again from the stored checkpoint; a crash after it, and the batch
 * is not read again. When another runner (the CLI and the API at once) committed first, the commit fails with
 * CheckpointMovedError, nothing is written, and this runner drops its caches and continues from the stored
 * checkpoints. Each projection keeps its own checkpoint, so a new projection catches up alone.
 */
export class ProjectionRunner {
  /** The log this runner folds (as-of reads fold the same log). */
  readonly store: EventStore;
  /** The read models it writes. */
  readonly readStore: ReadStore;
  private readonly projectionList: readonly Projection[];
  private readonly slots: Slot[];
  private readonly batchSize: number;
  private readonly logger: ProjectionLogger;
  private readonly now: () => number;
  /** The event types some projection handles: catch-up reads only those. */
  private readonly filter: EventFilter;
  /** Serialises catch-up and live batches of this runner: they share the caches. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private needsSync = true;
  private running = false;
  private loop: Promise<void> | undefined;
  private subscription: Subscription | undefined;
  private wakeRetry: (() => void) | undefined;
  private readonly commitWaiters = new Set<() => void>();
  private readonly snapshotEvery: number | null;
  private readonly highWaterMode: 'at-snapshot' | 'on-read';
  /** Whether this runner has looked for a snapshot at the checkpoints it started from. */
  private startSnapshotsTaken = false;
  /** The recordedAt high-water of the log up to a position, as the last snapshot computed it. */
  private highWater: { readonly position: bigint; readonly ms: number } | undefined;

  constructor(options: ProjectionRunnerOptions) {
    const { batchSize = DEFAULT_BATCH_SIZE, maxCachedRows = DEFAULT_MAX_CACHED_ROWS, asOfSnapshotEvery = DEFAULT_ASOF_SNAPSHOT_EVERY } = options;
    if (asOfSnapshotEvery !== null && (!Number.isSafeInteger(asOfSnapshotEvery) || asOfSnapshotEvery < 1 || asOfSnapshotEvery > MAX_ASOF_SNAPSHOT_EVERY)) {
      throw new RangeError(`asOfSnapshotEvery must be from 1 to ${MAX_ASOF_SNAPSHOT_EVERY} or null, got ${asOfSnapshotEvery}`);
    }
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw new RangeError(`batchSize must be from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`);
    }
    if (!Number.isSafeInteger(maxCachedRows) || maxCachedRows < 1) {
      throw new RangeError(`maxCachedRows must be a positive integer, got ${maxCachedRows}`);
    }
    const names = options.projections.map((projection) => projection.name);
    if (names.length === 0) throw new RangeError('a projection runner needs at least one projection');
    if (new Set(names).size !== names.length) throw new RangeError(`projection names must be unique: ${names.join(', ')}`);
    this.batchSize = batchSize;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.snapshotEvery = asOfSnapshotEvery;
    this.highWaterMode = options.asOfHighWater ?? 'at-snapshot';
    this.slots = options.projections.map((projection) => ({
      projection,
      cache: new RowCache(projection, maxCachedRows),
      checkpoint: undefined,
      behindSinceMs: null,
      snapshots: asOfSnapshotEvery !== null && projection.asOfSnapshots === true,
      eventsSinceSnapshot: 0,
    }));
    this.store = options.store;
    this.readStore = options.readStore;
    this.projectionList = options.projections;
    const eventTypes = new Set(options.projections.flatMap((projection) => [...projection.handles]));
    this.filter = { eventTypes: [...eventTypes].sort() };
  }

  get projections(): readonly Projection[] {
    return this.projectionList;
  }

  /** The projections this runner takes as-of snapshots of. */
  get snapshotted(): readonly Projection[] {
    return this.slots.filter((slot) => slot.snapshots).map((slot) => slot.projection);
  }

  /** Folds from each projection's checkpoint to the head (or toPosition) and returns. */
  catchUp(options: CatchUpOptions = {}): Promise<CatchUpResult> {
    if (options.toPosition !== undefined && options.toPosition < 0n) throw new RangeError('toPosition must not be negative');
    return this.serialised(() => this.catchUpNow(options, () => true));
  }

  /** Catches up, then follows the log live in the background until stop(). Failures are logged and retried. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.runInBackground();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeRetry?.();
    await this.subscription?.close();
    await this.loop;
    this.loop = undefined;
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = (await this.store.headPosition()) ?? null;
    const now = this.now();
    const statuses: ProjectionStatus[] = [];
    for (const slot of this.slots) {
      const { name, version } = slot.projection;
      const stored = await this.readStore.checkpoint(name);
      const position = stored !== undefined && stored.version === version ? stored.position : null;
      const behind = head === null ? 0n : head - (position ?? 0n);
      const lagEvents = behind > 0n ? behind : 0n;
      if (lagEvents === 0n) slot.behindSinceMs = null;
      else slot.behindSinceMs ??= now;
      const lagSeconds = slot.behindSinceMs === null ? 0 : Math.max(0, now - slot.behindSinceMs) / 1000;
      statuses.push({ name, version, position, headPosition: head, lagEvents, lagSeconds });
    }
    return statuses;
  }

  /** True once every projection's stored checkpoint is at or after `position`; false after timeoutMs. */
  async waitUntil(position: bigint, timeoutMs: number): Promise<boolean> {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_WAIT_UNTIL_MS) {
      throw new RangeError(`timeoutMs must be from 0 to ${MAX_WAIT_UNTIL_MS}, got ${timeoutMs}`);
    }
    let expired = false;
    const timer = setTimeout(() => (expired = true), timeoutMs);
    try {
      for (;;) {
        if (await this.reached(position)) return true;
        if (expired) return false;
        await this.nextCommitOrPoll();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- catch-up -----------------------------------------------------------------------------------------------

  private async catchUpNow(options: CatchUpOptions, goOn: () => boolean): Promise<CatchUpResult> {
    await this.syncCheckpoints();
    await this.takeStartSnapshots();
    let eventsRead = 0;
    let batches = 0;
    let conflicts = 0;
    while (goOn()) {
      const from = this.lowestCheckpoint();
      const head = await this.store.headPosition();
      if (head === undefined) break;
      const target = options.toPosition !== undefined && options.toPosition < head ? options.toPosition : head;
      if (from >= target) break;
      this.markBehind(target);
      const batch = await this.foldNextBatch(from, target);
      eventsRead += batch.eventsRead;
      if (!batch.applied) {
        conflicts += 1;
        if (conflicts > MAX_CONSECUTIVE_CONFLICTS) throw new Error(`gave up after ${conflicts} checkpoint conflicts in a row`);
        continue;
      }
      conflicts = 0;
      batches += 1;
      options.onProgress?.({ position: this.lowestCheckpoint(), targetPosition: target, eventsRead });
    }
    const head = await this.store.headPosition();
    return { position: head === undefined ? null : this.lowestCheckpoint(), eventsRead, batches };
  }

  // ---- one batch ----------------------------------------------------------------------------------------------

  /**
   * One batch of a catch-up: the next events after `from` that some projection handles, read from the log up to
   * batchSize, folded as they are read (never held in memory, only the rows they changed). When fewer events than
   * asked come back, the read went through to the head, which was at least `target` when this catch-up looked: the
   * batch covers every position up to `target`, handled or not.
   */
  private foldNextBatch(from: bigint, target: bigint): Promise<BatchResult> {
    const events = this.store.readAll({ fromPosition: from + 1n, maxCount: this.batchSize, filter: this.filter, metadataOnAccess: true });
    return this.foldBatch({ events, coveredFrom: from, upTo: target, headAtUpTo: true });
  }

  /**
   * THE batch pipeline, for catch-up and live alike (they differ only in where the events come from): folds the
   * events into each projection still behind the batch's end, takes the as-of snapshots that fall due, then
   * commits every projection's rows and checkpoint in one transaction.
   *
   * The events are in position order and cover every position after `coveredFrom` (skipped ones are handled by no
   * projection) up to the batch's end: `upTo` when the events ran out before batchSize or passed `upTo`, else the
   * last one folded. A batch that has changed MAX_DIRTY_ROWS rows stops there, so a batch's memory stays bounded
   * whatever batchSize is. Not applied (applied false) when another runner moved a checkpoint first (the caches are
   * dropped and the checkpoints read again), or when a projection is behind the batch's start.
   */
  private async foldBatch(batch: Batch): Promise<BatchResult> {
    const { coveredFrom, upTo } = batch;
    const behind = this.slots.filter((slot) => (slot.checkpoint ?? 0n) < upTo);
    if (behind.length === 0) return { eventsRead: 0, applied: true, end: upTo };
    // Folding this batch into a projection that has not folded every event up to its start would skip events.
    if (behind.some((slot) => (slot.checkpoint ?? 0n) < coveredFrom)) return { eventsRead: 0, applied: false, end: coveredFrom };
    let eventsRead = 0;
    let last: bigint | undefined;
    let passedUpTo = false;
    let stoppedEarly = false;
    let end: bigint;
    try {
      for await (const event of batch.events) {
        if (event.position > upTo) {
          passedUpTo = true;
          break;
        }
        eventsRead += 1;
        last = event.position;
        const loading = this.fold(behind, event);
        if (loading !== undefined) await loading;
        const snapshotting = this.snapshotIfDue(behind, event.position);
        if (snapshotting !== undefined) await snapshotting;
        if (eventsRead % DIRTY_CHECK_EVERY === 0 && dirtyRows(behind) >= MAX_DIRTY_ROWS) {
          stoppedEarly = true;
          break;
        }
      }
      end = !stoppedEarly && (passedUpTo || eventsRead < this.batchSize) ? upTo : last!;
    } catch (error) {
      return { eventsRead, applied: await this.abandonBatch(error), end: coveredFrom };
    }
    // A synchronous store (SQLite) never yields inside readAll: give timers, signals and, in the API process, HTTP
    // requests their turn once per batch, so a long catch-up never starves them.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const active = behind.filter((slot) => (slot.checkpoint ?? 0n) < end);
    const applied = await this.commitFolded(active, end, batch.headAtUpTo && end === upTo);
    return { eventsRead, applied, end };
  }

  /**
   * Folds one event into every slot that handles it and has not folded it yet. Synchronous unless a row has to be
   * loaded first (never during a rebuild): then it returns the promise of the rest of the work.
   */
  private fold(slots: readonly Slot[], event: RecordedEvent, from = 0): Promise<void> | undefined {
    for (let i = from; i < slots.length; i += 1) {
      const slot = slots[i]!;
      if (event.position <= (slot.checkpoint ?? 0n) || !slot.projection.handles.has(event.type)) continue;
      const missing = slot.cache.fold(event);
      if (missing !== undefined) {
        return this.loadAndFold(slot, event, missing).then(() => this.fold(slots, event, i + 1));
      }
    }
    return undefined;
  }

  // ---- as-of snapshots ----------------------------------------------------------------------------------------

  /**
   * Counts the event for every snapshotted slot that folds it, and takes a snapshot at its position of each slot
   * that has folded snapshotEvery events since its last one. Synchronous (undefined) when none is due.
   */
  private snapshotIfDue(slots: readonly Slot[], position: bigint): Promise<void> | undefined {
    let due: Slot[] | undefined;
    for (const slot of slots) {
      if (!slot.snapshots || position <= (slot.checkpoint ?? 0n)) continue;
      slot.eventsSinceSnapshot += 1;
      if (slot.eventsSinceSnapshot >= this.snapshotEvery!) (due ??= []).push(slot);
    }
    return due === undefined ? undefined : this.takeSnapshots(due, position);
  }

  /**
   * Snapshots of the slots at `position`, in the middle of a batch: each is the stored rows at the slot's checkpoint
   * with what the batch has folded since laid over them, so a rebuild's large batches are not cut to take them. A
   * CheckpointMovedError means the batch's commit would fail too: it abandons the batch as a conflict does.
   */
  private async takeSnapshots(slots: readonly Slot[], position: bigint, mayScanFromStart = true): Promise<void> {
    const recordedAtHighWaterMs = await this.highWaterAt(position, mayScanFromStart);
    for (const slot of slots) {
      const { name, version } = slot.projection;
      const changes = slot.cache.changes();
      await this.readStore.takeSnapshot({ source: name, projection: name, version, from: slot.checkpoint, position, recordedAtHighWaterMs, changes });
      slot.eventsSinceSnapshot = 0;
    }
  }

  /**
   * Once per runner: a snapshot at each snapshotted projection's stored checkpoint, unless its latest snapshot is
   * there already, so that a ledger that had none (older code, or snapshots switched on later) gets one at once.
   * Losing a race with another runner only leaves that snapshot to the next interval.
   */
  private async takeStartSnapshots(): Promise<void> {
    if (this.startSnapshotsTaken) return;
    this.startSnapshotsTaken = true;
    for (const slot of this.slots) {
      if (!slot.snapshots || slot.checkpoint === undefined) continue;
      const { name, version } = slot.projection;
      const marks = (await this.readStore.snapshots(name)).filter((mark) => mark.version === version);
      if (marks[marks.length - 1]?.position === slot.checkpoint) continue;
      try {
        // At the checkpoint of a ledger that may be large: its high-water is left to the reads rather than found by
        // reading the whole log's metadata before the projections go on.
        await this.takeSnapshots([slot], slot.checkpoint, false);
      } catch (error) {
        if (!(error instanceof CheckpointMovedError)) throw error;
        this.logger.log(`projection ${name}: no snapshot at start (${error.message})`);
        this.needsSync = true;
        await this.syncCheckpoints();
      }
    }
  }

  /**
   * The recordedAt high-water of the log up to `position`, read on from the last one this runner worked out or the
   * nearest snapshot before it. Null when not worked out here: in 'on-read' mode, when that snapshot's is not known
   * either, or when there is none and the caller may not read from the log's start (the start snapshot: that could
   * be a scan of the whole log). The reads by instant fill them in (AsOfReads.positionAsOf).
   */
  private async highWaterAt(position: bigint, mayScanFromStart: boolean): Promise<number | null> {
    if (this.highWaterMode === 'on-read') return null;
    let base = this.highWater !== undefined && this.highWater.position <= position ? this.highWater : undefined;
    let latest: SnapshotMark | undefined;
    for (const slot of this.slots) {
      if (!slot.snapshots) continue;
      for (const mark of await this.readStore.snapshots(slot.projection.name)) {
        if (mark.position <= position && (latest === undefined || mark.position > latest.position)) latest = mark;
      }
    }
    if (latest !== undefined && (base === undefined || latest.position > base.position)) {
      if (latest.recordedAtHighWaterMs === null) return null;
      base = { position: latest.position, ms: latest.recordedAtHighWaterMs };
    }
    if (base === undefined && !mayScanFromStart) return null;
    const ms = base?.position === position ? base.ms : await recordedAtHighWater(this.store, base?.position ?? 0n, position, base?.ms);
    this.highWater = { position, ms };
    return ms;
  }

  /** Commits what the slots folded, with their checkpoints moved to `end`, in one transaction. */
  private async commitFolded(active: readonly Slot[], end: bigint, reachedHead: boolean): Promise<boolean> {
    if (active.length === 0) return true;
    const commits: ProjectionCommit[] = active.map((slot) => ({
      projection: slot.projection.name,
      version: slot.projection.version,
      from: slot.checkpoint,
      to: end,
      changes: slot.cache.changes(),
    }));
    try {
      await this.readStore.commitMany(commits);
    } catch (error) {
      return this.abandonBatch(error);
    }
    for (const slot of active) {
      slot.checkpoint = end;
      slot.cache.committed();
      if (reachedHead) slot.behindSinceMs = null;
    }
    for (const wake of this.commitWaiters) wake();
    return true;
  }

  /**
   * The caches may hold part of a batch: forget them, and read the checkpoints again before going on. False when
   * another runner moved a checkpoint first; any other failure is thrown.
   */
  private async abandonBatch(error: unknown): Promise<false> {
    this.needsSync = true;
    if (!(error instanceof CheckpointMovedError)) throw error;
    this.logger.log(`projections: ${error.message}; continuing from the stored checkpoints`);
    await this.syncCheckpoints();
    return false;
  }

  /**
   * Loads the rows evolve asks for, one at a time, and folds the event again. Each row is read in its own read
   * transaction, so the checkpoint is read after it: still the batch's starting checkpoint (checkpoints only move
   * forwards) means the row is as that checkpoint left it. Otherwise another runner committed meanwhile, and rows
   * from two states must never meet in one fold: the batch is abandoned as a checkpoint conflict.
   */
  private async loadAndFold(slot: Slot, event: RecordedEvent, firstMissing: string): Promise<void> {
    const { name, version } = slot.projection;
    let missing: string | undefined = firstMissing;
    for (let loads = 0; missing !== undefined; loads += 1) {
      if (loads >= MAX_ROW_LOADS_PER_EVENT) {
        throw new Error(`projection ${name} needed more than ${MAX_ROW_LOADS_PER_EVENT} rows for event ${event.position}`);
      }
      const row = await this.readStore.get(name, missing);
      const stored = await this.readStore.checkpoint(name);
      if (!checkpointMatches(stored, version, slot.checkpoint)) throw new CheckpointMovedError(name, slot.checkpoint, stored);
      slot.cache.load(missing, row);
      missing = slot.cache.fold(event);
    }
  }

  /**
   * Reads the stored checkpoints. A projection stored by another version is reset (rebuilt from zero); a cache is
   * kept only when its checkpoint is still the stored one and nothing failed since.
   */
  private async syncCheckpoints(): Promise<void> {
    const force = this.needsSync;
    for (const slot of this.slots) {
      const { name, version } = slot.projection;
      let stored = await this.readStore.checkpoint(name);
      if (stored !== undefined && stored.version !== version) {
        this.logger.log(`projection ${name}: stored version ${stored.version}, this code is version ${version}: rebuilding from position 0`);
        await this.readStore.reset(name);
        stored = undefined;
      }
      if (force || stored?.position !== slot.checkpoint) {
        slot.cache.drop(stored === undefined);
        slot.checkpoint = stored?.position;
      }
    }
    this.needsSync = false;
  }

  private lowestCheckpoint(): bigint {
    let lowest: bigint | undefined;
    for (const slot of this.slots) {
      const position = slot.checkpoint ?? 0n;
      if (lowest === undefined || position < lowest) lowest = position;
    }
    return lowest ?? 0n;
  }

  private markBehind(target: bigint): void {
    const now = this.now();
    for (const slot of this.slots) {
      if ((slot.checkpoint ?? 0n) < target) slot.behindSinceMs ??= now;
    }
  }

  private async reached(position: bigint): Promise<boolean> {
    for (const slot of this.slots) {
      if (slot.checkpoint !== undefined && slot.checkpoint >= position) continue;
      // Another process (the CLI) may have moved it.
      const stored = await this.readStore.checkpoint(slot.projection.name);
      if (stored === undefined || stored.version !== slot.projection.version || stored.position < position) return false;
    }
    return true;
  }

  private nextCommitOrPoll(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.commitWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, WAIT_POLL_MS);
      this.commitWaiters.add(done);
    });
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.exclusive.then(work, work);
    this.exclusive = result.catch(() => undefined);
    return result;
  }

  // ---- live ---------------------------------------------------------------------------------------------------

  private async runInBackground(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await this.serialised(() => this.catchUpNow({}, () => this.running));
        if (!this.running) return;
        await this.followLive();
        failures = 0;
      } catch (error) {
        if (!this.running) return;
        const delayMs = Math.min(RETRY_MAX_DELAY_MS, RETRY_MIN_DELAY_MS * 2 ** Math.min(failures, 16));
        failures += 1;
        this.logger.error(`projections: runner failed (attempt ${failures}); retrying in ${delayMs} ms`, error);
        await this.sleep(delayMs);
      }
    }
  }

  /**
   * Follows the log from the lowest checkpoint. Events that arrive together (a page of the subscription) are
   * folded as one batch, up to batchSize; a batch is committed as soon as no further event is ready. Returns when
   * stopped, or when a batch cannot be applied (another runner moved a checkpoint, or catchUp() was called and
   * failed meanwhile): the caller then catches up again from the stored checkpoints and subscribes again.
   */
  private async followLive(): Promise<void> {
    let covered = this.lowestCheckpoint();
    const subscription = this.store.subscribe({ afterPosition: covered });
    this.subscription = subscription;
    const events = subscription[Symbol.asyncIterator]();
    try {
      let batch: RecordedEvent[] = [];
      let next = handled(events.next());
      while (this.running) {
        const full = batch.length >= this.batchSize;
        const result = full ? FULL : batch.length === 0 ? await next : await readyNow(next);
        if (result === FULL || result === NOT_READY || result.done) {
          if (batch.length > 0) {
            const end = batch[batch.length - 1]!.position;
            if (!(await this.commitLive(batch, covered, result === NOT_READY))) return;
            covered = end;
            batch = [];
          }
          if (result !== FULL && result !== NOT_READY) return;
          continue;
        }
        if (batch.length === 0) this.markBehind(result.value.position);
        batch.push(result.value);
        next = handled(events.next());
      }
    } finally {
      this.subscription = undefined;
      await subscription.close();
    }
  }

  /**
   * A live batch through the one pipeline (foldBatch), serialised with catch-ups. A batch the pipeline stops early
   * (too many changed rows) goes on from where it stopped, so no event that arrived is dropped.
   */
  private async commitLive(batch: readonly RecordedEvent[], coveredFrom: bigint, reachedHead: boolean): Promise<boolean> {
    let remaining = batch;
    let from = coveredFrom;
    while (remaining.length > 0) {
      const events = remaining;
      const upTo = events[events.length - 1]!.position;
      const result = await this.serialised(async () => (this.needsSync ? undefined : this.foldBatch({ events, coveredFrom: from, upTo, headAtUpTo: reachedHead })));
      if (result === undefined || !result.applied) return false;
      from = result.end;
      remaining = events.filter((event) => event.position > result.end);
    }
    return true;
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, delayMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeRetry = done;
    });
  }
}

function dirtyRows(slots: readonly Slot[]): number {
  let count = 0;
  for (const slot of slots) count += slot.cache.dirtyCount;
  return count;
}

const NOT_READY = Symbol('not ready');
const FULL = Symbol('full');

/**
 * The same promise, marked as handled: while a batch commits, nothing awaits the next event yet, and a failing
 * subscription must not become an unhandled rejection (which ends a Node process). It is still awaited later.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** The promise's value if it settles before the event loop turns (events already read), NOT_READY otherwise. */
function readyNow<T>(promise: Promise<T>): Promise<T | typeof NOT_READY> {
  return new Promise((resolve, reject) => {
    const immediate = setImmediate(() => resolve(NOT_READY));
    promise.then(
      (value) => {
        clearImmediate(immediate);
        resolve(value);
      },
      (error: unknown) => {
        clearImmediate(immediate);
        reject(error);
      },
    );
  });
}
