import type { EventStore } from '@app/event-store';
import type { DateTime } from 'luxon';
import { InMemoryReadStore } from '../in-memory-read-store';
import type { Projection, ReadModelRow } from '../projection';
import { BULK_BATCH_SIZE, ProjectionRunner } from '../projection-runner';
import { snapshotName, type ReadStore, type SnapshotMark } from '../read-store.port';
import { RowCache } from '../row-cache';
import { recordedAtHighWater, scanPositionAsOf } from './recorded-at';

export interface AsOfReadsOptions {
  readonly store: EventStore;
  /** The durable read store, where the runner keeps its as-of snapshots. */
  readonly readStore: ReadStore;
  /** The projections whose snapshots exist (the runner's `snapshotted`); their marks also bound positionAsOf. */
  readonly snapshotted: readonly Projection[];
}

/** What an as-of read may narrow itself to. */
export interface AsOfScope {
  /**
   * The one stream the answer needs: a projection partitioned by stream is then folded from that stream alone (the
   * balances of one account come only from its own stream).
   */
  readonly stream?: string;
}

/** How an as-of read was answered, for the bench and for tests. */
export interface AsOfFold {
  readonly projection: string;
  /** 'stream': folded from one stream; 'snapshot': from a snapshot on; 'log': from position zero (no snapshot). */
  readonly from: 'stream' | 'snapshot' | 'log';
  /** The snapshot's position the fold started after (0n when it started from the log's start or a stream). */
  readonly startPosition: bigint;
}

/**
 * Read models as they stood at a past position or instant, at a bounded cost:
 *
 * - a projection partitioned by stream, asked about one stream, folds that stream's events up to the position (the
 *   cost of one stream, not of the log);
 * - a projection with as-of snapshots loads the latest snapshot at or before the position into memory and folds
 *   only the events after it (at most about asOfSnapshotEvery events);
 * - any other projection, or one without a snapshot yet (a ledger that `ledger rebuild` has not snapshotted),
 *   is replayed from position zero, as every as-of read was before snapshots existed.
 *
 * The answer is an in-memory read store: the stored read models are never touched.
 */
export class AsOfReads {
  private readonly store: EventStore;
  private readonly readStore: ReadStore;
  private readonly snapshotted: readonly Projection[];

  constructor(options: AsOfReadsOptions) {
    this.store = options.store;
    this.readStore = options.readStore;
    this.snapshotted = options.snapshotted;
  }

  /** As-of reads over what a runner folds: its log, its read store and the snapshots it takes. */
  static of(runner: ProjectionRunner): AsOfReads {
    return new AsOfReads({ store: runner.store, readStore: runner.readStore, snapshotted: runner.snapshotted });
  }

  /** The position of the last event in the log, or undefined when the log is empty. */
  headPosition(): Promise<bigint | undefined> {
    return this.store.headPosition();
  }

  /**
   * The last position of the log's prefix whose events were all recorded at or before the instant (the scan stops
   * at the first event recorded later); undefined when the first event is already later, or the log is empty. The
   * same answer as positionAsOf in replay.ts, which scans from the start; this one starts after the last snapshot
   * whose whole prefix was recorded by the instant, so it reads at most the events up to the next snapshot.
   */
  async positionAsOf(instant: DateTime): Promise<bigint | undefined> {
    if (!instant.isValid) throw new RangeError('positionAsOf needs a valid instant');
    const limitMs = instant.toMillis();
    return scanPositionAsOf(this.store, limitMs, await this.searchStart(limitMs));
  }

  /**
   * Where a search for the log as of an instant may start: the last snapshot whose whole prefix was recorded by the
   * instant (its high-water is at or before it), so that a scan from the start would pass it. The scan then stops
   * at or before the next snapshot, whose prefix holds an event recorded later: it reads at most the events between
   * two snapshots, or after the last. Marks of every projection and version serve: a high-water is a fact of the
   * log, not of a read model.
   *
   * A high-water not known yet (a rebuild leaves them unknown) is worked out here from the one before and stored,
   * which reads no more than the scan from the start would have read up to there; so only the first read by
   * instant after a rebuild reads that far, and the next ones start from the stored high-waters.
   */
  private async searchStart(limitMs: number): Promise<bigint | undefined> {
    const marks: SnapshotMark[] = [];
    for (const projection of this.snapshotted) marks.push(...(await this.readStore.snapshots(projection.name)));
    marks.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
    let passed: { readonly position: bigint; readonly ms: number } | undefined;
    for (const mark of marks) {
      let ms = mark.recordedAtHighWaterMs;
      if (passed !== undefined && mark.position === passed.position) continue;
      if (ms === null) {
        ms = await recordedAtHighWater(this.store, passed?.position ?? 0n, mark.position, passed?.ms);
        await this.readStore.recordSnapshotHighWater(mark.projection, mark.position, ms);
      }
      if (ms > limitMs) break;
      passed = { position: mark.position, ms };
    }
    return passed?.position;
  }

  /** The read models of `projections` as of `position` (inclusive; 0n: before the first event). */
  async readModelsAt(position: bigint, projections: readonly Projection[], scope: AsOfScope = {}): Promise<InMemoryReadStore> {
    return (await this.readModelsAtWithFolds(position, projections, scope)).readStore;
  }

  /** readModelsAt, with how each projection was folded. */
  async readModelsAtWithFolds(
    position: bigint,
    projections: readonly Projection[],
    scope: AsOfScope = {},
  ): Promise<{ readStore: InMemoryReadStore; folds: AsOfFold[] }> {
    if (position < 0n) throw new RangeError('an as-of position must not be negative');
    const readStore = new InMemoryReadStore();
    const folds: AsOfFold[] = [];
    try {
      for (const projection of projections) {
        if (projection.partitionedBy === 'stream' && scope.stream !== undefined) {
          await this.foldStream(readStore, projection, scope.stream, position);
          folds.push({ projection: projection.name, from: 'stream', startPosition: 0n });
          continue;
        }
        const mark = await this.latestSnapshot(projection, position);
        if (mark !== undefined) await this.loadSnapshot(readStore, projection, mark);
        await new ProjectionRunner({ store: this.store, readStore, projections: [projection], batchSize: BULK_BATCH_SIZE, asOfSnapshotEvery: null }).catchUp({
          toPosition: position,
        });
        folds.push({ projection: projection.name, from: mark === undefined ? 'log' : 'snapshot', startPosition: mark?.position ?? 0n });
      }
    } catch (error) {
      await readStore.close();
      throw error;
    }
    return { readStore, folds };
  }

  /** The latest snapshot of this projection's version at or before the position; snapshots of other versions never answer. */
  private async latestSnapshot(projection: Projection, position: bigint): Promise<SnapshotMark | undefined> {
    if (!this.snapshotted.some((candidate) => candidate.name === projection.name)) return undefined;
    let latest: SnapshotMark | undefined;
    for (const mark of await this.readStore.snapshots(projection.name)) {
      if (mark.version !== projection.version || mark.position > position) continue;
      if (latest === undefined || mark.position > latest.position) latest = mark;
    }
    return latest;
  }

  /** The snapshot's rows, stored encoded as the runner commits them, become the projection's rows at its position. */
  private async loadSnapshot(into: InMemoryReadStore, projection: Projection, mark: SnapshotMark): Promise<void> {
    const rows = new Map<string, ReadModelRow | null>();
    for await (const row of this.readStore.rows(snapshotName(projection.name, mark.position))) rows.set(row.key, row);
    await into.commit(projection.name, projection.version, undefined, mark.position, rows);
  }

  /**
   * Folds one stream's events up to the position, as the runner folds them (its cache and codec). The cache starts
   * complete (nothing folded yet), so it never has a row to load.
   */
  private async foldStream(into: InMemoryReadStore, projection: Projection, streamId: string, position: bigint): Promise<void> {
    const cache = new RowCache(projection, Number.MAX_SAFE_INTEGER);
    cache.drop(true);
    let folded = false;
    for await (const event of this.store.readStream(streamId)) {
      // Positions grow with revisions within a stream: the first one past the position ends the fold.
      if (event.position > position) break;
      if (!projection.handles.has(event.type)) continue;
      const missing = cache.fold(event);
      if (missing !== undefined) throw new Error(`projection ${projection.name}: a complete cache cannot miss row ${missing}`);
      folded = true;
    }
    if (folded) await into.commit(projection.name, projection.version, undefined, position, cache.changes());
  }
}
