import type { ReadModelRow } from './projection';
import {
  assertCommits,
  assertPromotions,
  assertListLimit,
  assertProjectionName,
  assertSnapshotRequest,
  checkpointMatches,
  CheckpointMovedError,
  compareKeys,
  matchesFilter,
  normalizeIndex,
  ROWS_PAGE_SIZE,
  snapshotName,
  type Checkpoint,
  type ListQuery,
  type NormalizedIndex,
  type ProjectionCommit,
  type ReadStore,
  type Promotion,
  type SnapshotMark,
  type SnapshotRequest,
} from './read-store.port';

interface StoredRow {
  /** The doc as JSON text, as a durable store holds it: a reader never shares an object with the writer. */
  readonly json: string;
  readonly index: NormalizedIndex;
}

interface StoredProjection {
  checkpoint: Checkpoint | undefined;
  readonly rows: Map<string, StoredRow>;
  /** Keys in order, rebuilt on demand after a commit added or deleted rows. */
  sortedKeys: string[] | null;
}

/**
 * A read store in memory, for as-of replays and reconciliation. It behaves as the SQLite store does (the same
 * checkpoint check, the same key order, docs copied through JSON), so the queries give the same answers on both.
 */
export class InMemoryReadStore implements ReadStore {
  private readonly projections = new Map<string, StoredProjection>();
  /** Snapshot marks by projection, each list by position. */
  private readonly marks = new Map<string, SnapshotMark[]>();
  private closed = false;

  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    this.assertOpen();
    return this.projections.get(projection)?.checkpoint;
  }

  async commit(
    projection: string,
    version: number,
    from: bigint | undefined,
    to: bigint,
    changes: ReadonlyMap<string, ReadModelRow | null>,
  ): Promise<void> {
    return this.commitMany([{ projection, version, from, to, changes }]);
  }

  async commitMany(commits: readonly ProjectionCommit[]): Promise<void> {
    this.assertOpen();
    assertCommits(commits);
    // Everything is checked and serialised before the first write, so a failing commit leaves nothing behind.
    const prepared = commits.map((commit) => {
      const stored = this.projections.get(commit.projection)?.checkpoint;
      if (!checkpointMatches(stored, commit.version, commit.from)) {
        throw new CheckpointMovedError(commit.projection, commit.from, stored);
      }
      const rows = [...commit.changes].map(([key, row]) => ({ key, row: row === null ? null : storedRow(commit.projection, key, row) }));
      return { commit, rows };
    });
    for (const { commit, rows } of prepared) {
      const target = this.projectionFor(commit.projection);
      for (const { key, row } of rows) {
        const existed = row === null ? target.rows.delete(key) : target.rows.has(key);
        if (row !== null) target.rows.set(key, row);
        if ((row === null) === existed) target.sortedKeys = null;
      }
      target.checkpoint = { position: commit.to, version: commit.version };
    }
  }

  async get<Doc>(projection: string, key: string): Promise<ReadModelRow<Doc> | undefined> {
    this.assertOpen();
    const row = this.projections.get(projection)?.rows.get(key);
    return row === undefined ? undefined : toRow<Doc>(key, row);
  }

  async list<Doc>(projection: string, query: ListQuery): Promise<ReadModelRow<Doc>[]> {
    this.assertOpen();
    assertListLimit(query.limit);
    const stored = this.projections.get(projection);
    if (stored === undefined) return [];
    const keys = this.sortedKeys(stored);
    const found: ReadModelRow<Doc>[] = [];
    for (let i = query.afterKey === undefined ? 0 : firstAfter(keys, query.afterKey); i < keys.length; i += 1) {
      const key = keys[i]!;
      const row = stored.rows.get(key)!;
      if (!matchesFilter(row.index, query.filter)) continue;
      found.push(toRow<Doc>(key, row));
      if (found.length === query.limit) break;
    }
    return found;
  }

  async *rows(projection: string): AsyncGenerator<ReadModelRow> {
    this.assertOpen();
    let afterKey: string | undefined;
    for (;;) {
      const page = await this.list(projection, { afterKey, limit: ROWS_PAGE_SIZE });
      yield* page;
      if (page.length < ROWS_PAGE_SIZE) return;
      afterKey = page[page.length - 1]!.key;
    }
  }

  async reset(projection: string): Promise<void> {
    this.assertOpen();
    assertProjectionName(projection);
    this.projections.delete(projection);
  }

  async promote(promotions: readonly Promotion[]): Promise<void> {
    this.assertOpen();
    assertPromotions(promotions);
    for (const { staged, target } of promotions) {
      const rows = this.projections.get(staged);
      this.projections.delete(staged);
      if (rows === undefined) this.projections.delete(target);
      else this.projections.set(target, rows);
    }
  }

  async takeSnapshot(request: SnapshotRequest): Promise<void> {
    this.assertOpen();
    assertSnapshotRequest(request);
    const { source, projection, version, position, recordedAtHighWaterMs } = request;
    const stored = this.projections.get(source);
    if (!checkpointMatches(stored?.checkpoint, version, request.from)) throw new CheckpointMovedError(source, request.from, stored?.checkpoint);
    // Serialised before the first write, so that a doc without a JSON form leaves nothing behind.
    const overlay = [...request.changes].map(([key, row]) => ({ key, row: row === null ? null : storedRow(projection, key, row) }));
    const kept: SnapshotMark[] = [];
    for (const mark of this.marks.get(projection) ?? []) {
      if (mark.version === version && mark.position !== position) kept.push(mark);
      else this.projections.delete(snapshotName(projection, mark.position));
    }
    // Stored rows are immutable values (JSON text and a fresh index), so the copy may share them.
    const rows = new Map(stored?.rows ?? []);
    for (const { key, row } of overlay) {
      if (row === null) rows.delete(key);
      else rows.set(key, row);
    }
    this.projections.set(snapshotName(projection, position), { checkpoint: { position, version }, rows, sortedKeys: null });
    kept.push({ projection, version, position, recordedAtHighWaterMs });
    kept.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
    this.marks.set(projection, kept);
  }

  async snapshots(projection: string): Promise<SnapshotMark[]> {
    this.assertOpen();
    return [...(this.marks.get(projection) ?? [])];
  }

  async recordSnapshotHighWater(projection: string, position: bigint, recordedAtHighWaterMs: number): Promise<void> {
    this.assertOpen();
    const marks = this.marks.get(projection);
    if (marks === undefined) return;
    this.marks.set(
      projection,
      marks.map((mark) => (mark.position === position ? { ...mark, recordedAtHighWaterMs } : mark)),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.projections.clear();
    this.marks.clear();
  }

  /** How many rows a projection holds (for tests and progress reports). */
  rowCount(projection: string): number {
    return this.projections.get(projection)?.rows.size ?? 0;
  }

  private projectionFor(projection: string): StoredProjection {
    let stored = this.projections.get(projection);
    if (stored === undefined) {
      stored = { checkpoint: undefined, rows: new Map(), sortedKeys: [] };
      this.projections.set(projection, stored);
    }
    return stored;
  }

  private sortedKeys(stored: StoredProjection): string[] {
    stored.sortedKeys ??= [...stored.rows.keys()].sort(compareKeys);
    return stored.sortedKeys;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the in-memory read store is closed');
  }
}

function storedRow(projection: string, key: string, row: ReadModelRow): StoredRow {
  const json = JSON.stringify(row.doc);
  if (typeof json !== 'string') throw new TypeError(`row ${key} of ${projection} has no JSON form`);
  return { json, index: normalizeIndex(row.index) };
}

function toRow<Doc>(key: string, row: StoredRow): ReadModelRow<Doc> {
  return { key, doc: JSON.parse(row.json) as Doc, index: { ...row.index } };
}

/** The index of the first key after `afterKey` in sorted keys (binary search). */
function firstAfter(keys: readonly string[], afterKey: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(keys[middle]!, afterKey) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
