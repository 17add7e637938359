import { INDEX_FIELD_NAMES, type IndexFields, type ReadModelRow } from './projection';

export const READ_STORE = Symbol('READ_STORE');

/** Rows one `list` call returns at most; queries ask for a page plus one to know whether another page follows. */
export const MAX_LIST_LIMIT = 10_000;
/** Rows one page of `rows()` holds in memory. */
export const ROWS_PAGE_SIZE = 1_000;
export const MAX_ROW_KEY_CHARS = 512;
export const MAX_INDEX_VALUE_CHARS = 256;
export const MAX_PROJECTION_NAME_CHARS = 64;

/** How far a projection's stored rows have folded the log, and by which version of its evolve. */
export interface Checkpoint {
  readonly position: bigint;
  readonly version: number;
}

export interface ListQuery {
  /** Every given field must match (a string exactly, null "not applicable"); absent fields match anything. */
  readonly filter?: IndexFields;
  /** Exclusive: rows with a key after this one. */
  readonly afterKey?: string;
  readonly limit: number;
}

/** One projection's part of a commit: its changed rows (null = delete) and its checkpoint move. */
export interface ProjectionCommit {
  readonly projection: string;
  readonly version: number;
  readonly from: bigint | undefined;
  readonly to: bigint;
  readonly changes: ReadonlyMap<string, ReadModelRow | null>;
}

/**
 * Durable read models: per projection, rows by key and one checkpoint, changed together in one transaction, so that
 * the rows always hold exactly the events up to the checkpoint (a crash never applies an event twice or skips one).
 */
export interface ReadStore {
  checkpoint(projection: string): Promise<Checkpoint | undefined>;
  /** Writes the changed rows (null = delete) and moves the checkpoint from `from` to `to` in ONE transaction.
   *  Throws CheckpointMovedError (nothing written) when the stored checkpoint is not `from` (another runner moved it). */
  commit(
    projection: string,
    version: number,
    from: bigint | undefined,
    to: bigint,
    changes: ReadonlyMap<string, ReadModelRow | null>,
  ): Promise<void>;
  /**
   * Several projections' commits in ONE transaction (the runner commits a batch of every projection at once, so a
   * batch costs one durable write, not one per projection). All or nothing: throws CheckpointMovedError naming the
   * first projection whose checkpoint moved, and writes nothing.
   */
  commitMany(commits: readonly ProjectionCommit[]): Promise<void>;
  get<Doc>(projection: string, key: string): Promise<ReadModelRow<Doc> | undefined>;
  /** Rows ordered by key, after `afterKey`, matching every given filter field exactly. */
  list<Doc>(projection: string, query: ListQuery): Promise<ReadModelRow<Doc>[]>;
  /** Every row of a projection by key, read a page at a time. */
  rows(projection: string): AsyncIterable<ReadModelRow>;
  /** Rows and checkpoint gone (rebuild). */
  reset(projection: string): Promise<void>;
  /**
   * In ONE transaction, each staged projection's rows and checkpoint take the place of its target's, whose old rows
   * and checkpoint are gone; the staged name is left empty. A reader sees every target as it was or every target as
   * staged, never a mix and never a part (the side-by-side rebuild, side-by-side.ts). A runner that is live on a
   * target meanwhile finds its checkpoint moved and continues from the promoted one.
   */
  promote(promotions: readonly Promotion[]): Promise<void>;
  /**
   * In ONE transaction: copies the rows of `request.source` under `snapshotName(request.projection, position)`,
   * applies `request.changes` over the copy, and records the snapshot's mark, if the source's stored checkpoint is
   * exactly `request.from` of `version` (else CheckpointMovedError, nothing written). The changes are what the runner
   * folded after `from` up to `position` and has not committed yet, so a snapshot can be taken in the middle of a
   * large batch (a rebuild's) without cutting the batch. Snapshots of the projection under another version are
   * removed in the same transaction (a snapshot of another evolve would answer wrongly); one at the same position
   * is replaced.
   */
  takeSnapshot(request: SnapshotRequest): Promise<void>;
  /** The marks of a projection's snapshots (every version), by position. Their rows: `rows(snapshotName(...))`. */
  snapshots(projection: string): Promise<SnapshotMark[]>;
  /**
   * Sets the recordedAt high-water of the snapshot at `position` (of any version) once it is known; nothing when
   * there is no such snapshot (replaced meanwhile). The value is a fact of the log, so two writers agree.
   */
  recordSnapshotHighWater(projection: string, position: bigint, recordedAtHighWaterMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Where an as-of snapshot's rows are kept: `loss-totals~at~120000`. No reader or runner asks for such a name. */
export const SNAPSHOT_INFIX = '~at~';

export function snapshotName(projection: string, position: bigint): string {
  return `${projection}${SNAPSHOT_INFIX}${position.toString()}`;
}

/**
 * Where the marks of a projection's snapshots are kept: rows of their own name, one per snapshot, keyed by the
 * position padded to 20 digits (so that key order is position order). Rows, not a table of their own, so that the
 * stores' schemas (and their migration versions) stay as they are.
 */
export function snapshotMarksName(projection: string): string {
  return `${projection}~snapshots`;
}

const MARK_KEY_DIGITS = 20;

/** A snapshot's mark as a row of snapshotMarksName(projection). */
export function markRow(mark: SnapshotMark): ReadModelRow {
  return {
    key: mark.position.toString().padStart(MARK_KEY_DIGITS, '0'),
    doc: { version: mark.version, position: mark.position.toString(), recordedAtHighWaterMs: mark.recordedAtHighWaterMs },
    index: {},
  };
}

export function markOfRow(projection: string, row: ReadModelRow): SnapshotMark {
  const doc = row.doc as { version: number; position: string; recordedAtHighWaterMs: number | null };
  if (!Number.isSafeInteger(doc.version) || !/^[0-9]+$/.test(doc.position) || !(doc.recordedAtHighWaterMs === null || Number.isSafeInteger(doc.recordedAtHighWaterMs))) {
    throw new Error(`snapshot mark ${row.key} of ${projection} is malformed`);
  }
  return { projection, version: doc.version, position: BigInt(doc.position), recordedAtHighWaterMs: doc.recordedAtHighWaterMs };
}

/** Every mark of a projection's snapshots, by position, read a page at a time. */
export async function readSnapshotMarks(rs: Pick<ReadStore, 'rows'>, projection: string): Promise<SnapshotMark[]> {
  const marks: SnapshotMark[] = [];
  for await (const row of rs.rows(snapshotMarksName(projection))) marks.push(markOfRow(projection, row));
  return marks;
}

/** A read model as it stood at a log position, kept so that an as-of read folds only what came after it. */
export interface SnapshotMark {
  readonly projection: string;
  readonly version: number;
  readonly position: bigint;
  /**
   * The latest `recordedAt` (milliseconds since the epoch) of ALL events at or before `position`, handled or not:
   * when it is at or before an instant, the whole prefix up to `position` was recorded by then, so a search for
   * "the log as of that instant" may start after `position` (positionAsOf). Null while not yet known: finding it
   * means reading every event's metadata, which would make a rebuild about half as fast again, so a rebuild leaves
   * it to the first as-of read by instant (recordSnapshotHighWater), and a live runner works it out as it goes.
   */
  readonly recordedAtHighWaterMs: number | null;
}

export interface SnapshotRequest extends SnapshotMark {
  /**
   * The projection whose rows are copied: the projection itself, or its staged name when a side-by-side rebuild
   * takes the snapshot (a snapshot is a fact of the log prefix, true before the promotion too).
   */
  readonly source: string;
  /** The source's checkpoint the changes were folded from (undefined: nothing stored yet). At most `position`. */
  readonly from: bigint | undefined;
  /** Rows changed after `from` up to `position` (null = delete), encoded as a commit's changes are. */
  readonly changes: ReadonlyMap<string, ReadModelRow | null>;
}

/** The checks every adapter makes on a snapshot request before it writes anything. */
export function assertSnapshotRequest(request: SnapshotRequest): void {
  assertProjectionName(request.source);
  assertProjectionName(request.projection);
  assertProjectionName(snapshotName(request.projection, request.position));
  assertProjectionName(snapshotMarksName(request.projection));
  if (!Number.isSafeInteger(request.version) || request.version < 1) {
    throw new RangeError(`snapshot of ${request.projection}: version must be a positive integer, got ${request.version}`);
  }
  if (request.position < 1n || (request.from !== undefined && request.from > request.position)) {
    throw new RangeError(`snapshot of ${request.projection}: position must be positive and at least from, got ${request.from} to ${request.position}`);
  }
  for (const [key, row] of request.changes) {
    assertRowKey(key);
    if (row === null) continue;
    if (row.key !== key) throw new RangeError(`snapshot of ${request.projection}: row ${row.key} is filed under key ${key}`);
    normalizeIndex(row.index);
  }
  if (request.recordedAtHighWaterMs !== null && !Number.isSafeInteger(request.recordedAtHighWaterMs)) {
    throw new RangeError(`snapshot of ${request.projection}: recordedAtHighWaterMs must be an integer, got ${request.recordedAtHighWaterMs}`);
  }
}

/** A staged projection (rows and checkpoint under another name) that is to replace its target's. */
export interface Promotion {
  readonly staged: string;
  readonly target: string;
}

/** The checks every adapter makes on promotions before it writes anything. */
export function assertPromotions(promotions: readonly Promotion[]): void {
  for (const { staged, target } of promotions) {
    assertProjectionName(staged);
    assertProjectionName(target);
    if (staged === target) throw new RangeError(`projection ${target} cannot be promoted onto itself`);
  }
  const names = promotions.flatMap(({ staged, target }) => [staged, target]);
  if (new Set(names).size !== names.length) throw new RangeError('a promotion names a projection twice');
}

/** The stored checkpoint is not the one a commit started from: another runner committed or reset in between. */
export class CheckpointMovedError extends Error {
  readonly code = 'CHECKPOINT_MOVED';
  constructor(
    readonly projection: string,
    readonly expected: bigint | undefined,
    readonly actual: Checkpoint | undefined,
  ) {
    super(
      `checkpoint of projection ${projection} is ${actual === undefined ? 'none' : `${actual.position} (version ${actual.version})`}, ` +
        `expected ${expected === undefined ? 'none' : expected.toString()}`,
    );
    this.name = 'CheckpointMovedError';
  }
}

/** True when a stored checkpoint is the one a commit of `version` expects to move from. */
export function checkpointMatches(stored: Checkpoint | undefined, version: number, from: bigint | undefined): boolean {
  if (stored === undefined) return from === undefined;
  return from !== undefined && stored.position === from && stored.version === version;
}

/** The checks every adapter makes on a batch of commits before it writes anything (see assertCommit). */
export function assertCommits(commits: readonly ProjectionCommit[]): void {
  for (const commit of commits) assertCommit(commit);
  if (new Set(commits.map((commit) => commit.projection)).size !== commits.length) {
    throw new RangeError('a commit names a projection twice');
  }
}

/** The checks every adapter makes before it writes anything; a failure here is a programming fault. */
export function assertCommit(commit: ProjectionCommit): void {
  assertProjectionName(commit.projection);
  if (!Number.isSafeInteger(commit.version) || commit.version < 1) {
    throw new RangeError(`projection ${commit.projection}: version must be a positive integer, got ${commit.version}`);
  }
  if (commit.to < 1n || (commit.from !== undefined && commit.to <= commit.from)) {
    throw new RangeError(`projection ${commit.projection}: checkpoint must move forwards, from ${commit.from} to ${commit.to}`);
  }
  for (const [key, row] of commit.changes) {
    assertRowKey(key);
    if (row === null) continue;
    if (row.key !== key) throw new RangeError(`projection ${commit.projection}: row ${row.key} is filed under key ${key}`);
    normalizeIndex(row.index);
  }
}

export function assertProjectionName(projection: string): void {
  if (typeof projection !== 'string' || projection.length === 0 || projection.length > MAX_PROJECTION_NAME_CHARS) {
    throw new RangeError(`a projection name must have 1 to ${MAX_PROJECTION_NAME_CHARS} characters`);
  }
}

export function assertRowKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_ROW_KEY_CHARS) {
    throw new RangeError(`a row key must have 1 to ${MAX_ROW_KEY_CHARS} characters, got ${JSON.stringify(key)}`);
  }
}

export function assertListLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new RangeError(`a list limit must be from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
  }
}

export interface NormalizedIndex {
  readonly accountId: string | null;
  readonly incidentId: string | null;
  readonly asset: string | null;
  readonly status: string | null;
}

/** The index with every field present (null when not applicable), as stores keep and return it. */
export function normalizeIndex(index: IndexFields | undefined): NormalizedIndex {
  const normalized = {
    accountId: index?.accountId ?? null,
    incidentId: index?.incidentId ?? null,
    asset: index?.asset ?? null,
    status: index?.status ?? null,
  };
  for (const field of INDEX_FIELD_NAMES) {
    const value = normalized[field];
    if (value !== null && (typeof value !== 'string' || value.length > MAX_INDEX_VALUE_CHARS)) {
      throw new RangeError(`index field ${field} must be a string of at most ${MAX_INDEX_VALUE_CHARS} characters or null`);
    }
  }
  return normalized;
}

/** True when a row's index matches every field the filter gives. */
export function matchesFilter(index: NormalizedIndex, filter: IndexFields | undefined): boolean {
  if (filter === undefined) return true;
  for (const field of INDEX_FIELD_NAMES) {
    const wanted = filter[field];
    if (wanted !== undefined && index[field] !== wanted) return false;
  }
  return true;
}

/**
 * Orders keys as SQLite's BINARY collation does (by UTF-8 bytes, that is by code point), so that every store pages
 * in the same order. JavaScript's `<` compares UTF-16 code units, which differs only above U+D7FF.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(codeUnit: number): number {
  if (codeUnit < 0xd800) return codeUnit;
  // Surrogates encode code points above U+FFFF: they rank after every other code unit.
  return codeUnit <= 0xdfff ? codeUnit + 0x2000 : codeUnit - 0x800;
}
