import type { RecordedEvent } from '@app/event-store';

/**
 * Fields a read-model row can be filtered and paged by (the filters finance asks for: incident, asset, account,
 * status). A read store indexes them; null or absent means "not applicable to this row".
 *
 * As a list filter, a string matches that exact value, null matches rows where the field is not applicable, and an
 * absent field matches anything.
 */
export interface IndexFields {
  readonly accountId?: string | null;
  readonly incidentId?: string | null;
  readonly asset?: string | null;
  readonly status?: string | null;
}

export const INDEX_FIELD_NAMES = ['accountId', 'incidentId', 'asset', 'status'] as const satisfies readonly (keyof IndexFields)[];

/** One row of a read model: a JSON document under a key, unique within its projection. */
export interface ReadModelRow<Doc = unknown> {
  readonly key: string;
  readonly doc: Doc;
  readonly index: IndexFields;
}

/**
 * What a projection's evolve sees of its own read model while it folds one event: rows by key, read and written.
 * The runner backs it with a batch over a durable read store; replays (as-of, reconcile) back it with memory.
 * Docs must be plain JSON (amounts as canonical decimal strings, never JS numbers), or whatever the projection's
 * codec turns into plain JSON.
 *
 * Docs returned by `get` are shared with the cache behind the view: evolve never mutates them, it puts a new doc.
 * `get` answers undefined both for a row that does not exist and for one the runner has not loaded into memory yet;
 * in the second case the runner discards that fold (its writes, and any error evolve threw on the provisional
 * answer), loads the row and folds the event again. So evolve must be pure: nothing but its writes to the view may
 * depend on what it read, which every projection's evolve already is.
 */
export interface ReadModelView {
  get<Doc>(key: string): Doc | undefined;
  put(key: string, doc: unknown, index: IndexFields): void;
  delete(key: string): void;
}

/**
 * How a projection holds its docs in memory while it folds (amounts as bigint, so that folding an event does not
 * parse and format decimal strings) and how they are stored (plain JSON with canonical decimal strings). The runner
 * decodes a row when it loads it and encodes it once per batch when it commits, never once per event.
 */
export interface RowCodec {
  encode(key: string, doc: unknown): unknown;
  decode(key: string, stored: unknown): unknown;
}

/**
 * A projection: `evolve` folds one event into the read model and touches nothing else (no clock, no
 * I/O), so a replay from position zero always rebuilds the same rows. Bump `version` whenever `evolve` changes
 * meaning: a stored read model of another version is rebuilt.
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  /** The event types evolve cares about; the runner skips every other event (but still advances past it). */
  readonly handles: ReadonlySet<string>;
  evolve(view: ReadModelView, event: RecordedEvent): void;
  /** Absent: docs are stored exactly as evolve puts them. */
  readonly codec?: RowCodec;
  /**
   * 'stream': every row is written from the events of one stream only, and no two streams write the same key, so a
   * parallel rebuild may fold the streams in separate partitions and put their rows together (parallel/).
   */
  readonly partitionedBy?: 'stream';
  /** What folding it costs beside the others (1 when absent): how a parallel rebuild shares the work out. */
  readonly foldWeight?: number;
  /**
   * True: the runner keeps snapshots of the read model every so many events (asOfSnapshotEvery), so that a read as
   * of a past position folds only the events after the snapshot before it. For read models that span many streams
   * and stay small (a snapshot copies every row); a 'stream' read model is read as of a position by folding its
   * one stream instead.
   */
  readonly asOfSnapshots?: boolean;
}

/** Encodes a doc held in memory for storage (identity without a codec). */
export function encodeDoc(projection: Projection, key: string, doc: unknown): unknown {
  return projection.codec ? projection.codec.encode(key, doc) : doc;
}

/** Decodes a stored doc for folding (identity without a codec). */
export function decodeDoc(projection: Projection, key: string, stored: unknown): unknown {
  return projection.codec ? projection.codec.decode(key, stored) : stored;
}
