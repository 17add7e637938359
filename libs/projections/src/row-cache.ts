import type { RecordedEvent } from '@app/event-store';
import { decodeDoc, encodeDoc, type IndexFields, type Projection, type ReadModelRow, type ReadModelView } from './projection';

/** Rows one event may write: far above what any read model needs, low enough to catch a runaway evolve. */
export const MAX_WRITES_PER_EVENT = 64;

interface CachedRow {
  /** The doc in memory form; undefined when the row does not exist. */
  doc: unknown;
  index: IndexFields;
  /** Whether the read store holds this row as of the last commit (so a delete must reach it). */
  stored: boolean;
  dirty: boolean;
}

interface PendingWrite {
  readonly key: string;
  readonly doc: unknown;
  readonly index: IndexFields;
}

const NO_INDEX: IndexFields = {};

/**
 * One projection's write-through cache over the read store, and the view its evolve folds into.
 *
 * A fold is two-phase, with no exception to signal a miss: an event's writes are held aside until evolve returns.
 * When evolve asks for a row the cache does not hold, `get` answers "absent" for now and notes the key; once evolve
 * returns, the fold is discarded (its writes, and any error evolve threw on that provisional answer) and `fold`
 * names the row to load, so the runner loads it and folds the event again (evolve is pure). The first miss is
 * always a row the event really needs: every read before it was answered truly. Rows written since the last commit are dirty; `changes()` encodes them for one commit, and
 * `committed()` keeps them as clean rows for the next batches, up to `maxRows`.
 *
 * When the cache is `complete` (the read model was empty when the runner began and nothing has been evicted since),
 * a row the cache does not hold does not exist, and no read reaches the store: a rebuild never reads.
 */
export class RowCache implements ReadModelView {
  private readonly rows = new Map<string, CachedRow>();
  private readonly dirtyKeys: string[] = [];
  private readonly pending: PendingWrite[] = [];
  /** The first key the current fold asked for and the cache does not hold (undefined: none yet). */
  private firstMiss: string | undefined;
  private complete = false;

  constructor(
    private readonly projection: Projection,
    private readonly maxRows: number,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  get dirtyCount(): number {
    return this.dirtyKeys.length;
  }

  get<Doc>(key: string): Doc | undefined {
    for (let i = this.pending.length - 1; i >= 0; i -= 1) {
      const write = this.pending[i]!;
      if (write.key === key) return write.doc as Doc | undefined;
    }
    const row = this.rows.get(key);
    if (row !== undefined) return row.doc as Doc | undefined;
    if (!this.complete) this.firstMiss ??= key;
    return undefined;
  }

  put(key: string, doc: unknown, index: IndexFields): void {
    if (doc === undefined || doc === null) throw new TypeError(`projection ${this.projection.name} put no doc under ${key}`);
    this.queue({ key, doc, index });
  }

  delete(key: string): void {
    this.queue({ key, doc: undefined, index: NO_INDEX });
  }

  /** Folds one event; returns the key of a row to load first when evolve needed one the cache does not hold. */
  fold(event: RecordedEvent): string | undefined {
    this.pending.length = 0;
    this.firstMiss = undefined;
    let failure: { readonly error: unknown } | undefined;
    try {
      this.projection.evolve(this, event);
    } catch (error) {
      failure = { error };
    }
    const missing = this.firstMiss;
    this.firstMiss = undefined;
    if (missing !== undefined || failure !== undefined) {
      this.pending.length = 0;
      // A failure after a miss may come from the provisional "absent" (an invariant on a row that does exist):
      // only a fold that read nothing provisionally can fail for real.
      if (missing !== undefined) return missing;
      throw failure!.error;
    }
    for (const write of this.pending) this.apply(write);
    this.pending.length = 0;
    return undefined;
  }

  /** Holds a row read from the store (or its absence) as clean. */
  load(key: string, row: ReadModelRow | undefined): void {
    if (this.rows.has(key)) return;
    this.rows.set(key, {
      doc: row === undefined ? undefined : decodeDoc(this.projection, key, row.doc),
      index: row === undefined ? NO_INDEX : row.index,
      stored: row !== undefined,
      dirty: false,
    });
  }

  /** The rows changed since the last commit, encoded for the read store (null = delete). */
  changes(): Map<string, ReadModelRow | null> {
    const changes = new Map<string, ReadModelRow | null>();
    for (const key of this.dirtyKeys) {
      const row = this.rows.get(key)!;
      if (row.doc === undefined) {
        // A row created and deleted since the last commit never reached the store: nothing to delete.
        if (row.stored) changes.set(key, null);
      } else {
        changes.set(key, { key, doc: encodeDoc(this.projection, key, row.doc), index: row.index });
      }
    }
    return changes;
  }

  /** The changes are durable: dirty rows become clean, and the oldest rows go when the cache is over its bound. */
  committed(): void {
    for (const key of this.dirtyKeys) {
      const row = this.rows.get(key)!;
      // In a complete cache an absent key means "no row", so a deleted row need not be remembered (a rebuild
      // deletes every settled withdrawal's pending row: kept, they would fill the cache and make it incomplete).
      if (row.doc === undefined && this.complete) {
        this.rows.delete(key);
        continue;
      }
      row.stored = row.doc !== undefined;
      row.dirty = false;
      // Re-inserted, so that eviction (oldest first) keeps the rows that are being written.
      this.rows.delete(key);
      this.rows.set(key, row);
    }
    this.dirtyKeys.length = 0;
    if (this.rows.size > this.maxRows) this.evict();
  }

  /** Forgets everything (the batch failed, or another runner moved the checkpoint). */
  drop(readModelIsEmpty: boolean): void {
    this.rows.clear();
    this.dirtyKeys.length = 0;
    this.pending.length = 0;
    this.complete = readModelIsEmpty;
  }

  private queue(write: PendingWrite): void {
    if (this.pending.length >= MAX_WRITES_PER_EVENT) {
      throw new RangeError(`projection ${this.projection.name} wrote more than ${MAX_WRITES_PER_EVENT} rows for one event`);
    }
    this.pending.push(write);
  }

  private apply(write: PendingWrite): void {
    const row = this.rows.get(write.key);
    if (row === undefined) {
      // A blind write (the row was never read): unless the cache is complete, the store may hold the row.
      this.rows.set(write.key, { doc: write.doc, index: write.index, stored: !this.complete, dirty: true });
      this.dirtyKeys.push(write.key);
      return;
    }
    row.doc = write.doc;
    row.index = write.index;
    if (!row.dirty) {
      row.dirty = true;
      this.dirtyKeys.push(write.key);
    }
  }

  private evict(): void {
    const target = Math.floor(this.maxRows / 2);
    for (const key of this.rows.keys()) {
      if (this.rows.size <= target) break;
      this.rows.delete(key);
    }
    // Evicted rows are still in the store, so an unknown key may exist there now.
    this.complete = false;
  }
}
