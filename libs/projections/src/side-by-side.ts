import type { ReadModelRow } from './projection';
import type { Projection } from './projection';
import type { CatchUpResult } from './projection-runner';
import type { Checkpoint, ListQuery, ProjectionCommit, ReadStore, SnapshotMark, SnapshotRequest } from './read-store.port';

/** Where a rebuild folds a projection before it takes the projection's place: `balances~rebuild`. */
export const STAGED_SUFFIX = '~rebuild';

export function stagedName(projection: string): string {
  return `${projection}${STAGED_SUFFIX}`;
}

/**
 * The same read store with every projection name staged: what a rebuild writes through it lands beside the read
 * models that readers use, under names no reader asks for. Closing it leaves the store open (its owner closes it).
 */
export class StagedReadStore implements ReadStore {
  constructor(private readonly inner: ReadStore) {}

  checkpoint(projection: string): Promise<Checkpoint | undefined> {
    return this.inner.checkpoint(stagedName(projection));
  }

  commit(projection: string, version: number, from: bigint | undefined, to: bigint, changes: ReadonlyMap<string, ReadModelRow | null>): Promise<void> {
    return this.inner.commit(stagedName(projection), version, from, to, changes);
  }

  commitMany(commits: readonly ProjectionCommit[]): Promise<void> {
    return this.inner.commitMany(commits.map((commit) => ({ ...commit, projection: stagedName(commit.projection) })));
  }

  get<Doc>(projection: string, key: string): Promise<ReadModelRow<Doc> | undefined> {
    return this.inner.get<Doc>(stagedName(projection), key);
  }

  list<Doc>(projection: string, query: ListQuery): Promise<ReadModelRow<Doc>[]> {
    return this.inner.list<Doc>(stagedName(projection), query);
  }

  rows(projection: string): AsyncIterable<ReadModelRow> {
    return this.inner.rows(stagedName(projection));
  }

  reset(projection: string): Promise<void> {
    return this.inner.reset(stagedName(projection));
  }

  /**
   * Copies the staged rows, but files the snapshot under the target's own name: a snapshot holds the log's prefix
   * up to its position, which is as true before the promotion as after it, so the rebuild leaves as-of reads their
   * snapshots even when it is stopped before the swap.
   */
  takeSnapshot(request: SnapshotRequest): Promise<void> {
    return this.inner.takeSnapshot({ ...request, source: stagedName(request.source) });
  }

  snapshots(projection: string): Promise<SnapshotMark[]> {
    return this.inner.snapshots(projection);
  }

  recordSnapshotHighWater(projection: string, position: bigint, recordedAtHighWaterMs: number): Promise<void> {
    return this.inner.recordSnapshotHighWater(projection, position, recordedAtHighWaterMs);
  }

  promote(): Promise<void> {
    throw new Error('a staged read store does not promote: the store it stages for does');
  }

  async close(): Promise<void> {
    // The inner store belongs to whoever staged it.
  }
}

/**
 * Rebuilds read models side by side (the rebuild that readers never see half-done): `fold` rebuilds them from
 * position zero into staged names on the same store, while the read models in use stay as they are; then every one
 * takes its place in ONE transaction. A reader sees the old complete models until that commit and the new complete
 * ones after it. A rebuild stopped before the swap leaves the read models in use untouched; its staged rows are
 * dropped by the next rebuild (fold resets what it folds).
 */
export async function rebuildSideBySide<Result = CatchUpResult>(
  readStore: ReadStore,
  projections: readonly Pick<Projection, 'name'>[],
  fold: (staged: ReadStore) => Promise<Result>,
): Promise<Result> {
  const result = await fold(new StagedReadStore(readStore));
  await readStore.promote(projections.map((projection) => ({ staged: stagedName(projection.name), target: projection.name })));
  return result;
}
