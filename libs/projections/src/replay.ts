import { canonicalJson, type EventStore } from '@app/event-store';
import type { DateTime } from 'luxon';
import { scanPositionAsOf } from './as-of/recorded-at';
import { InMemoryReadStore } from './in-memory-read-store';
import type { Projection, ReadModelRow } from './projection';
import { BULK_BATCH_SIZE, ProjectionRunner, type CatchUpProgress, type CatchUpResult, type ProjectionLogger } from './projection-runner';
import { compareKeys, normalizeIndex, type Checkpoint, type ReadStore } from './read-store.port';
import { rebuildSideBySide } from './side-by-side';

/** Differences one reconcile reports per projection; the count covers them all. */
export const MAX_REPORTED_DIFFERENCES = 100;

export interface RebuildOptions {
  readonly store: EventStore;
  readonly readStore: ReadStore;
  readonly projections: readonly Projection[];
  readonly onProgress?: (progress: CatchUpProgress) => void;
  /** BULK_BATCH_SIZE when absent. */
  readonly batchSize?: number;
  readonly maxCachedRows?: number;
  readonly logger?: ProjectionLogger;
  /** Events between as-of snapshots (ProjectionRunnerOptions); the runner's default when absent. */
  readonly asOfSnapshotEvery?: number | null;
  /** 'on-read' when absent: a bulk fold leaves the snapshots' high-waters to the first as-of read by instant. */
  readonly asOfHighWater?: 'at-snapshot' | 'on-read';
}

/**
 * Rebuilds read models from position zero, side by side (side-by-side.ts): the log is folded again, a batch at a
 * time, into staged rows beside the read models in use, which then take their place in one transaction. Readers
 * see the old complete read models until then, never a part. A runner that is live on the same read store
 * notices (its checkpoint moved) and continues from the rebuilt checkpoint.
 */
export function rebuild(options: RebuildOptions): Promise<CatchUpResult> {
  return rebuildSideBySide(options.readStore, options.projections, async (staged) => {
    for (const projection of options.projections) await staged.reset(projection.name);
    const runner = new ProjectionRunner({
      ...options,
      readStore: staged,
      batchSize: options.batchSize ?? BULK_BATCH_SIZE,
      asOfHighWater: options.asOfHighWater ?? 'on-read',
    });
    return runner.catchUp({ onProgress: options.onProgress });
  });
}

export interface ReplayOptions {
  readonly store: EventStore;
  readonly projections: readonly Projection[];
  /** Inclusive; the head when absent. 0n replays nothing. */
  readonly toPosition?: bigint;
  readonly onProgress?: (progress: CatchUpProgress) => void;
  /** BULK_BATCH_SIZE when absent. */
  readonly batchSize?: number;
  readonly maxCachedRows?: number;
}

/** The read models as they stood at a position, folded in memory (the stored read models are not touched). */
export async function replay(options: ReplayOptions): Promise<InMemoryReadStore> {
  const readStore = new InMemoryReadStore();
  // A replay in memory is thrown away after the read: snapshots of it would be too.
  const runner = new ProjectionRunner({ ...options, readStore, batchSize: options.batchSize ?? BULK_BATCH_SIZE, asOfSnapshotEvery: null });
  await runner.catchUp({ toPosition: options.toPosition, onProgress: options.onProgress });
  return readStore;
}

/**
 * The last position of the log's prefix whose events were recorded at or before the instant: the log is read in
 * order and the scan stops at the first event recorded later. Undefined when the first event is already later
 * (or the log is empty). `recordedAt` is the time the ledger decided, so this is "the ledger as it stood then".
 */
export async function positionAsOf(store: EventStore, instant: DateTime): Promise<bigint | undefined> {
  if (!instant.isValid) throw new RangeError('positionAsOf needs a valid instant');
  return scanPositionAsOf(store, instant.toMillis(), undefined);
}

/** The read models as they stood at an instant (see positionAsOf). */
export async function replayAsOf(options: Omit<ReplayOptions, 'toPosition'> & { readonly instant: DateTime }): Promise<InMemoryReadStore> {
  const toPosition = (await positionAsOf(options.store, options.instant)) ?? 0n;
  return replay({ ...options, toPosition });
}

export interface RowDifference {
  readonly key: string;
  /** Null when the stored read model lacks the row. */
  readonly stored: ReadModelRow | null;
  /** Null when the stored row should not exist. */
  readonly replayed: ReadModelRow | null;
}

export interface ProjectionReconciliation {
  readonly name: string;
  /** The stored checkpoint the replay went up to; null when nothing is stored. */
  readonly checkpoint: bigint | null;
  /** The stored version, when it differs from this code's (rows are then not compared). */
  readonly storedVersion: number | null;
  readonly rowsCompared: number;
  readonly differenceCount: number;
  /** The first MAX_REPORTED_DIFFERENCES differences, by key. */
  readonly differences: RowDifference[];
}

export interface ReconcileReport {
  readonly projections: ProjectionReconciliation[];
}

export interface ReconcileOptions {
  readonly store: EventStore;
  readonly readStore: ReadStore;
  readonly projections: readonly Projection[];
  readonly batchSize?: number;
}

/**
 * Compares the stored read models with a fresh replay, each up to its own stored checkpoint, row by row: rows
 * missing from the store, extra rows in it, and rows that differ (doc or index). Projections stored at the same
 * checkpoint share one replay.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const { store, readStore, projections } = options;
  const checkpoints = new Map<string, Checkpoint | undefined>();
  for (const projection of projections) checkpoints.set(projection.name, await readStore.checkpoint(projection.name));

  const groups = new Map<string, Projection[]>();
  for (const projection of projections) {
    const checkpoint = checkpoints.get(projection.name);
    if (checkpoint !== undefined && checkpoint.version !== projection.version) continue;
    const position = checkpoint?.position ?? 0n;
    groups.set(position.toString(), [...(groups.get(position.toString()) ?? []), projection]);
  }

  const results = new Map<string, ProjectionReconciliation>();
  for (const [position, group] of groups) {
    const replayed = await replay({ store, projections: group, toPosition: BigInt(position), batchSize: options.batchSize });
    for (const projection of group) {
      results.set(projection.name, await compareRows(projection.name, readStore, replayed, checkpoints.get(projection.name)?.position ?? null));
    }
    await replayed.close();
  }
  return {
    projections: projections.map((projection) => {
      const compared = results.get(projection.name);
      if (compared !== undefined) return compared;
      // Stored by another version: every row may differ, so the checkpoint is the one difference reported.
      const stored = checkpoints.get(projection.name)!;
      const key = '(checkpoint)';
      return {
        name: projection.name,
        checkpoint: stored.position,
        storedVersion: stored.version,
        rowsCompared: 0,
        differenceCount: 1,
        differences: [
          {
            key,
            stored: { key, doc: { version: stored.version, position: stored.position.toString() }, index: {} },
            replayed: { key, doc: { version: projection.version }, index: {} },
          },
        ],
      };
    }),
  };
}

/** Merges two key-ordered row streams and reports where they differ. */
async function compareRows(
  name: string,
  stored: ReadStore,
  replayed: ReadStore,
  checkpoint: bigint | null,
): Promise<ProjectionReconciliation> {
  const storedRows = stored.rows(name)[Symbol.asyncIterator]();
  const replayedRows = replayed.rows(name)[Symbol.asyncIterator]();
  const differences: RowDifference[] = [];
  let differenceCount = 0;
  let rowsCompared = 0;
  const report = (key: string, storedRow: ReadModelRow | null, replayedRow: ReadModelRow | null): void => {
    differenceCount += 1;
    if (differences.length < MAX_REPORTED_DIFFERENCES) differences.push({ key, stored: storedRow, replayed: replayedRow });
  };
  let a = await storedRows.next();
  let b = await replayedRows.next();
  while (!a.done || !b.done) {
    rowsCompared += 1;
    const order = a.done ? 1 : b.done ? -1 : compareKeys(a.value.key, b.value.key);
    if (order < 0) {
      report(a.value!.key, a.value!, null);
      a = await storedRows.next();
    } else if (order > 0) {
      report(b.value!.key, null, b.value!);
      b = await replayedRows.next();
    } else {
      if (!sameRow(a.value!, b.value!)) report(a.value!.key, a.value!, b.value!);
      a = await storedRows.next();
      b = await replayedRows.next();
    }
  }
  return { name, checkpoint, storedVersion: null, rowsCompared, differenceCount, differences };
}

function sameRow(a: ReadModelRow, b: ReadModelRow): boolean {
  return canonicalJson(a.doc) === canonicalJson(b.doc) && canonicalJson(normalizeIndex(a.index)) === canonicalJson(normalizeIndex(b.index));
}
