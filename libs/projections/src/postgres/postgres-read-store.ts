import { escapeIdentifier, Pool, type PoolClient } from 'pg';
import { INDEX_FIELD_NAMES, type IndexFields, type ReadModelRow } from '../projection';
import {
  assertCommits,
  assertPromotions,
  assertListLimit,
  assertProjectionName,
  assertSnapshotRequest,
  checkpointMatches,
  CheckpointMovedError,
  normalizeIndex,
  ROWS_PAGE_SIZE,
  markOfRow,
  markRow,
  readSnapshotMarks,
  snapshotMarksName,
  snapshotName,
  type Checkpoint,
  type ListQuery,
  type ProjectionCommit,
  type ReadStore,
  type Promotion,
  type SnapshotMark,
  type SnapshotRequest,
} from '../read-store.port';
import { keepConnectionErrorsFromCrashing } from '@app/event-store/postgres/postgres-schema';
import { assertReadStoreSchemaName, migrateReadStore } from './postgres-read-store-schema';
import { FILTER_COLUMNS, toReadModelRow, type StoredRow } from '../sql-rows';

/*
 * THE CHECKPOINT COMPARE-AND-SET
 *
 * A commit (one or several projections) is one READ COMMITTED transaction:
 *
 *   1. Lock the checkpoint row of every projection of the commit, in one statement, in byte order of the names:
 *        INSERT INTO checkpoints (projection) SELECT ... ORDER BY projection
 *        ON CONFLICT (projection) DO UPDATE SET version = checkpoints.version RETURNING version, position
 *      For a projection that has a row, ON CONFLICT DO UPDATE takes the same row lock as SELECT ... FOR UPDATE and,
 *      under READ COMMITTED, returns the newest committed version of the row (waiting for a transaction that holds
 *      it). For a projection that has no row yet, it inserts one (NULL = no checkpoint), which a concurrent
 *      transaction inserting the same name waits for: the first commit of a projection is serialised too, which a
 *      plain SELECT ... FOR UPDATE (no row, nothing to lock) would not do. Rows are never deleted (reset clears
 *      them), so the lock always has a row to hold.
 *   2. Compare each stored checkpoint with the commit's `from` (and version): any difference throws
 *      CheckpointMovedError, and the transaction is rolled back having written nothing.
 *   3. Write the rows (deletes, then multi-row upserts, in bounded chunks), then the new checkpoints; COMMIT.
 *
 * Two runners racing therefore never both apply a batch: the second waits at step 1 until the first commits, then
 * sees the moved checkpoint. Every transaction that writes rows of a projection holds that projection's checkpoint
 * lock first (reset too), and takes its checkpoint locks in one ordered pass before any other lock, so commits
 * never deadlock one another. A commit that waits longer than COMMIT_LOCK_TIMEOUT_MS for a lock (a stuck
 * transaction elsewhere) fails rather than hanging.
 *
 * Readers need nothing special: each read is one statement on one snapshot of committed data.
 */

export const DEFAULT_READ_STORE_SCHEMA = 'read_models';
export const DEFAULT_READ_STORE_POOL_SIZE = 10;
export const MAX_READ_STORE_POOL_SIZE = 100;
/** How long taking a connection from the pool (or opening one) may take. */
export const READ_STORE_CONNECT_TIMEOUT_MS = 10_000;
/** How long a commit or a reset waits for another transaction's checkpoint lock before failing. */
export const COMMIT_LOCK_TIMEOUT_MS = 30_000;
/** Rows one write statement carries at most, and JSON characters (unless a single row is larger). */
export const WRITE_CHUNK_ROWS = 1_000;
export const WRITE_CHUNK_CHARS = 4_000_000;
export const READ_STORE_APPLICATION_NAME = 'ledger-read-store';

const MAX_INT8 = 9_223_372_036_854_775_807n;
const DECIMAL_INTEGER = /^[0-9]+$/;
/**
 * PostgreSQL text cannot hold NUL, and `pg` sends a lone surrogate as U+FFFD (so 'a\uD800' and 'a\uD801' would be
 * one key). Commits refuse such names, keys and index values; reads treat them as naming nothing stored.
 */
const UNSTORABLE = /[\u0000\p{Cs}]/u;

export interface PostgresReadStoreOptions {
  /** A `postgres://` URL, as `pg` accepts it. */
  readonly connectionString: string;
  /** The schema holding the tables; created if missing. Defaults to DEFAULT_READ_STORE_SCHEMA. */
  readonly schema?: string;
  /** Connections of the pool (reads and commits). Defaults to DEFAULT_READ_STORE_POOL_SIZE. */
  readonly poolSize?: number;
}

/**
 * Opens the read store: creates the schema or migrates it to the current version (safe when several processes
 * start at once).
 */
export function openPostgresReadStore(options: PostgresReadStoreOptions): Promise<PostgresReadStore> {
  return PostgresReadStore.open(options);
}

interface CheckpointRow {
  readonly projection: string;
  readonly version: string | null;
  readonly position: string | null;
}

const ROW_COLUMNS = 'r.key, r.doc, r.account_id, r.incident_id, r.asset, r.status';

/** A row change ready to send: serialised and checked before the transaction begins. */
interface PreparedUpsert {
  readonly projection: string;
  readonly key: string;
  readonly json: string;
  readonly accountId: string | null;
  readonly incidentId: string | null;
  readonly asset: string | null;
  readonly status: string | null;
}

interface PreparedDelete {
  readonly projection: string;
  readonly key: string;
}

function statements(schema: string) {
  const quoted = escapeIdentifier(schema);
  const checkpoints = `${quoted}.checkpoints`;
  const rows = `${quoted}.rows`;
  return {
    rows,
    begin: `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = ${COMMIT_LOCK_TIMEOUT_MS}`,
    checkpoint: `SELECT c.version::text AS version, c.position::text AS position FROM ${checkpoints} c
      WHERE c.projection = $1 AND c.position IS NOT NULL`,
    row: `SELECT ${ROW_COLUMNS} FROM ${rows} r WHERE r.projection = $1 AND r.key = $2`,
    // Step 1 of the compare-and-set (above): creates missing rows, locks every row, in name order.
    lockCheckpoints: `INSERT INTO ${checkpoints} AS c (projection)
      SELECT n.name FROM unnest($1::text[]) AS n(name) ORDER BY n.name COLLATE "C"
      ON CONFLICT (projection) DO UPDATE SET version = c.version
      RETURNING c.projection, c.version::text AS version, c.position::text AS position`,
    updateCheckpoints: `UPDATE ${checkpoints} AS c SET version = u.version, position = u.position
      FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(projection, version, position)
      WHERE c.projection = u.projection`,
    deleteRows: `DELETE FROM ${rows} AS r USING unnest($1::text[], $2::text[]) AS d(projection, key)
      WHERE r.projection = d.projection AND r.key = d.key`,
    // The SET leaves a column's value as it is when it does not change; PostgreSQL then keeps the update HOT
    // (no index entry) when the page has room, so rewriting a doc costs no index maintenance.
    upsertRows: `INSERT INTO ${rows} AS r (projection, key, doc, account_id, incident_id, asset, status)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
      ON CONFLICT (projection, key) DO UPDATE SET doc = excluded.doc, account_id = excluded.account_id,
        incident_id = excluded.incident_id, asset = excluded.asset, status = excluded.status`,
    // Reset: clears (and locks) the checkpoint row, creating it if missing, so that it serialises with commits.
    clearCheckpoint: `INSERT INTO ${checkpoints} AS c (projection) VALUES ($1)
      ON CONFLICT (projection) DO UPDATE SET version = NULL, position = NULL`,
    deleteProjectionRows: `DELETE FROM ${rows} WHERE projection = $1`,
    renameRows: `UPDATE ${rows} SET projection = $1 WHERE projection = $2`,
    // The target's row is locked (lockCheckpoints) and cleared (clearCheckpoint) before; the staged row keeps its
    // place with no checkpoint, as reset leaves it.
    projectionRows: `SELECT ${ROW_COLUMNS} FROM ${rows} r WHERE r.projection = $1 ORDER BY r.key`,
    copyRows: `INSERT INTO ${rows} (projection, key, doc, account_id, incident_id, asset, status)
      SELECT $1, key, doc, account_id, incident_id, asset, status FROM ${rows} WHERE projection = $2`,
    takeCheckpoint: `UPDATE ${checkpoints} AS t SET version = s.version, position = s.position
      FROM ${checkpoints} AS s WHERE t.projection = $1 AND s.projection = $2`,
  };
}

/**
 * The read models in a PostgreSQL schema of their own (`read_models` by default; the event store's database may
 * hold it): rows by projection and key with their filter fields, and one checkpoint per projection. A batch of
 * every projection is one transaction; see THE CHECKPOINT COMPARE-AND-SET above for what makes two runners safe.
 */
export class PostgresReadStore implements ReadStore {
  readonly schema: string;
  private readonly sql: ReturnType<typeof statements>;
  private closed = false;
  private closePromise: Promise<void> | undefined;
  private commits = 0;

  /** See openPostgresReadStore. The constructor is private: a store is only used on a migrated schema. */
  static async open(options: PostgresReadStoreOptions): Promise<PostgresReadStore> {
    const { connectionString, schema = DEFAULT_READ_STORE_SCHEMA, poolSize = DEFAULT_READ_STORE_POOL_SIZE } = options;
    if (typeof connectionString !== 'string' || connectionString === '') throw new Error('the postgres read store needs a connection string');
    assertReadStoreSchemaName(schema);
    if (!Number.isSafeInteger(poolSize) || poolSize < 1 || poolSize > MAX_READ_STORE_POOL_SIZE) {
      throw new Error(`poolSize must be from 1 to ${MAX_READ_STORE_POOL_SIZE}, got ${poolSize}`);
    }
    const pool = new Pool({
      connectionString,
      max: poolSize,
      connectionTimeoutMillis: READ_STORE_CONNECT_TIMEOUT_MS,
      application_name: READ_STORE_APPLICATION_NAME,
    });
    // An idle connection that breaks is dropped by the pool; the next query opens a new one and reports any fault.
    // Without a listener the 'error' event would crash the process.
    pool.on('error', () => undefined);
    keepConnectionErrorsFromCrashing(pool);
    try {
      await migrateReadStore(pool, schema);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresReadStore(pool, schema);
  }

  private constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.schema = schema;
    this.sql = statements(schema);
  }

  /** How many commit transactions this store has committed (tests and operators). */
  get commitCount(): number {
    return this.commits;
  }

  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    this.assertOpen();
    if (!isStorable(projection)) return undefined;
    const { rows } = await this.pool.query<CheckpointRow>(this.sql.checkpoint, [projection]);
    return rows[0] === undefined ? undefined : toCheckpoint(rows[0]);
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
    if (commits.length === 0) return;
    // Everything is checked and serialised before the transaction begins: a doc without a JSON form fails here.
    const { upserts, deletes } = prepareChanges(commits);
    await this.inTransaction(async (client) => {
      const names = commits.map((commit) => commit.projection);
      const locked = await client.query<CheckpointRow>(this.sql.lockCheckpoints, [names]);
      const stored = new Map(locked.rows.map((row) => [row.projection, toCheckpoint(row)]));
      if (stored.size !== commits.length) throw new Error(`locked ${stored.size} checkpoints of ${commits.length}`);
      // In the order given, so that the error names the first projection whose checkpoint moved.
      for (const commit of commits) {
        const current = stored.get(commit.projection);
        if (!checkpointMatches(current, commit.version, commit.from)) {
          throw new CheckpointMovedError(commit.projection, commit.from, current);
        }
      }
      await this.writeChanges(client, upserts, deletes);
      const updated = await client.query(this.sql.updateCheckpoints, [
        names,
        commits.map((commit) => String(commit.version)),
        commits.map((commit) => commit.to.toString()),
      ]);
      if (updated.rowCount !== commits.length) throw new Error(`moved ${String(updated.rowCount)} checkpoints of ${commits.length}`);
    });
    this.commits += 1;
  }

  async get<Doc>(projection: string, key: string): Promise<ReadModelRow<Doc> | undefined> {
    this.assertOpen();
    if (!isStorable(projection) || !isStorable(key)) return undefined;
    const { rows } = await this.pool.query<StoredRow>(this.sql.row, [projection, key]);
    return rows[0] === undefined ? undefined : toReadModelRow<Doc>(rows[0]);
  }

  async list<Doc>(projection: string, query: ListQuery): Promise<ReadModelRow<Doc>[]> {
    this.assertOpen();
    assertListLimit(query.limit);
    const built = this.listSql(projection, query);
    if (built === undefined) return [];
    const { rows } = await this.pool.query<StoredRow>(built.sql, built.params);
    return rows.map((row) => toReadModelRow<Doc>(row));
  }

  async *rows(projection: string): AsyncGenerator<ReadModelRow> {
    let afterKey: string | undefined;
    for (;;) {
      // One page per query: no cursor (and no connection) stays open across a yield.
      const page = await this.list(projection, { afterKey, limit: ROWS_PAGE_SIZE });
      yield* page;
      if (page.length < ROWS_PAGE_SIZE) return;
      afterKey = page[page.length - 1]!.key;
    }
  }

  /** One transaction that locks every checkpoint row involved first, in name order, as commits lock them. */
  async promote(promotions: readonly Promotion[]): Promise<void> {
    this.assertOpen();
    assertPromotions(promotions);
    if (promotions.length === 0) return;
    await this.inTransaction(async (client) => {
      await client.query(this.sql.lockCheckpoints, [promotions.flatMap(({ staged, target }) => [staged, target])]);
      for (const { staged, target } of promotions) {
        await client.query(this.sql.clearCheckpoint, [target]);
        await client.query(this.sql.deleteProjectionRows, [target]);
        await client.query(this.sql.renameRows, [target, staged]);
        await client.query(this.sql.takeCheckpoint, [target, staged]);
        await client.query(this.sql.clearCheckpoint, [staged]);
      }
    });
  }

  /**
   * One transaction. It locks the checkpoint rows of the source and of the projection (as commits lock them, in one
   * ordered statement): a commit of the source cannot move the checkpoint between the check and the copy, and two
   * snapshots of one projection (the API's runner and a rebuild's) never write the same snapshot at once.
   */
  async takeSnapshot(request: SnapshotRequest): Promise<void> {
    this.assertOpen();
    assertSnapshotRequest(request);
    const { source, projection, version, position, recordedAtHighWaterMs } = request;
    if (!isStorable(source)) throw new RangeError(`projection ${source} cannot be stored in PostgreSQL`);
    const name = snapshotName(projection, position);
    // Checked and serialised before the transaction begins, as a commit's changes are.
    const marksName = snapshotMarksName(projection);
    const mark = markRow({ projection, version, position, recordedAtHighWaterMs });
    const { upserts, deletes } = prepareChanges([
      { projection: name, version, from: request.from, to: position, changes: request.changes },
      { projection: marksName, version, from: undefined, to: position, changes: new Map([[mark.key, mark]]) },
    ]);
    await this.inTransaction(async (client) => {
      const locked = await client.query<CheckpointRow>(this.sql.lockCheckpoints, [[...new Set([source, projection])]]);
      const row = locked.rows.find((candidate) => candidate.projection === source);
      const current = row === undefined ? undefined : toCheckpoint(row);
      if (!checkpointMatches(current, version, request.from)) throw new CheckpointMovedError(source, request.from, current);
      const marks = await client.query<StoredRow>(this.sql.projectionRows, [marksName]);
      for (const stored of marks.rows) {
        const old = markOfRow(projection, toReadModelRow(stored));
        if (old.version === version && old.position !== position) continue;
        await client.query(this.sql.deleteProjectionRows, [snapshotName(projection, old.position)]);
        await client.query(this.sql.deleteRows, [[marksName], [stored.key]]);
      }
      await client.query(this.sql.deleteProjectionRows, [name]);
      await client.query(this.sql.copyRows, [name, source]);
      await this.writeChanges(client, upserts, deletes);
    });
  }

  async snapshots(projection: string): Promise<SnapshotMark[]> {
    this.assertOpen();
    if (!isStorable(projection)) return [];
    return readSnapshotMarks(this, projection);
  }

  /** One transaction under the projection's checkpoint lock, as takeSnapshot takes it, so the two never interleave. */
  async recordSnapshotHighWater(projection: string, position: bigint, recordedAtHighWaterMs: number): Promise<void> {
    this.assertOpen();
    if (!isStorable(projection)) return;
    const marksName = snapshotMarksName(projection);
    const key = markRow({ projection, version: 1, position, recordedAtHighWaterMs }).key;
    await this.inTransaction(async (client) => {
      await client.query(this.sql.lockCheckpoints, [[projection]]);
      const { rows } = await client.query<StoredRow>(this.sql.row, [marksName, key]);
      if (rows[0] === undefined) return;
      const mark = markRow({ ...markOfRow(projection, toReadModelRow(rows[0])), recordedAtHighWaterMs });
      const { upserts, deletes } = prepareChanges([{ projection: marksName, version: 1, from: undefined, to: position, changes: new Map([[mark.key, mark]]) }]);
      await this.writeChanges(client, upserts, deletes);
    });
  }

  async reset(projection: string): Promise<void> {
    this.assertOpen();
    assertProjectionName(projection);
    // Nothing stored can be named so (commits refuse it): there is nothing to reset.
    if (!isStorable(projection)) return;
    await this.inTransaction(async (client) => {
      await client.query(this.sql.clearCheckpoint, [projection]);
      await client.query(this.sql.deleteProjectionRows, [projection]);
    });
  }

  /** Waits for queries in flight, then ends the pool. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    this.closePromise ??= this.pool.end();
    return this.closePromise;
  }

  /** PostgreSQL's plan for a list query (EXPLAIN, not run), so tests and operators can see which index it uses. */
  async listQueryPlan(projection: string, query: ListQuery): Promise<string[]> {
    this.assertOpen();
    assertListLimit(query.limit);
    const built = this.listSql(projection, query);
    if (built === undefined) return [];
    const { rows } = await this.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${built.sql}`, built.params);
    return rows.map((row) => row['QUERY PLAN']);
  }

  /**
   * The list query for a filter; undefined when no stored row can match (a name or value PostgreSQL cannot hold).
   * Rows come in key order (COLLATE "C" on the column: byte order), from the partial index of a given field or the
   * primary key, as the planner picks.
   */
  private listSql(projection: string, query: ListQuery): { sql: string; params: unknown[] } | undefined {
    if (!isStorable(projection)) return undefined;
    const filter: IndexFields = query.filter ?? {};
    const params: unknown[] = [projection];
    const conditions = ['r.projection = $1'];
    for (const field of INDEX_FIELD_NAMES) {
      const value = filter[field];
      const column = FILTER_COLUMNS[field];
      if (value === undefined) continue;
      if (value === null) {
        conditions.push(`r.${column} IS NULL`);
        continue;
      }
      if (typeof value !== 'string') throw new TypeError(`filter field ${field} must be a string or null`);
      // No stored value holds such a character, so none equals this one.
      if (!isStorable(value)) return undefined;
      params.push(value);
      conditions.push(`r.${column} = $${params.length}`);
    }
    if (query.afterKey !== undefined) {
      const bound = keyBound(query.afterKey);
      params.push(bound.key);
      conditions.push(`r.key ${bound.inclusive ? '>=' : '>'} $${params.length}`);
    }
    params.push(query.limit);
    const sql = `SELECT ${ROW_COLUMNS} FROM ${this.sql.rows} r WHERE ${conditions.join(' AND ')} ORDER BY r.key LIMIT $${params.length}`;
    return { sql, params };
  }

  /** Deletes, then multi-row upserts, in bounded chunks. */
  private async writeChanges(client: PoolClient, upserts: readonly PreparedUpsert[], deletes: readonly PreparedDelete[]): Promise<void> {
    for (const chunk of chunks(deletes, (item) => item.key.length)) {
      await client.query(this.sql.deleteRows, [chunk.map((item) => item.projection), chunk.map((item) => item.key)]);
    }
    for (const chunk of chunks(upserts, (item) => item.key.length + item.json.length)) {
      await client.query(this.sql.upsertRows, [
        chunk.map((item) => item.projection),
        chunk.map((item) => item.key),
        chunk.map((item) => item.json),
        chunk.map((item) => item.accountId),
        chunk.map((item) => item.incidentId),
        chunk.map((item) => item.asset),
        chunk.map((item) => item.status),
      ]);
    }
  }

  /** Runs work in one transaction on one pooled connection; a connection that saw a fault is discarded. */
  private async inTransaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    let fault: Error | undefined;
    // A checked-out client has no error listener; a dropped socket would otherwise crash the process.
    const onError = (error: Error): void => {
      fault = error;
    };
    client.on('error', onError);
    try {
      await client.query(this.sql.begin);
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      // After a statement's error (a CheckpointMovedError, a constraint) the connection is sound once rolled back;
      // a failed ROLLBACK means it is not (the server rolls back by itself when the connection drops): discard it.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        fault ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(fault);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the postgres read store is closed');
  }
}

// ---- pure helpers ---------------------------------------------------------------------------------------------

function isStorable(text: string): boolean {
  return typeof text === 'string' && !UNSTORABLE.test(text);
}

function assertStorable(what: string, text: string | null): void {
  if (text !== null && !isStorable(text)) {
    throw new RangeError(`${what} ${JSON.stringify(text)} holds NUL or a lone surrogate, which PostgreSQL text cannot hold`);
  }
}

/** Every change as it is sent, in commit order; throws (a RangeError or a TypeError) before anything is written. */
function prepareChanges(commits: readonly ProjectionCommit[]): { upserts: PreparedUpsert[]; deletes: PreparedDelete[] } {
  const upserts: PreparedUpsert[] = [];
  const deletes: PreparedDelete[] = [];
  for (const commit of commits) {
    const { projection } = commit;
    assertStorable('projection name', projection);
    if (commit.to > MAX_INT8) throw new RangeError(`projection ${projection}: checkpoint ${commit.to} does not fit a bigint`);
    for (const [key, row] of commit.changes) {
      assertStorable(`row key of ${projection}`, key);
      if (row === null) {
        deletes.push({ projection, key });
        continue;
      }
      const json = JSON.stringify(row.doc);
      if (typeof json !== 'string') throw new TypeError(`row ${key} of ${projection} has no JSON form`);
      const index = normalizeIndex(row.index);
      for (const field of INDEX_FIELD_NAMES) assertStorable(`index field ${field} of row ${key} of ${projection}`, index[field]);
      upserts.push({ projection, key, json, ...index });
    }
  }
  return { upserts, deletes };
}

/** Consecutive slices of at most WRITE_CHUNK_ROWS items and (unless one item is larger) WRITE_CHUNK_CHARS. */
function chunks<T>(items: readonly T[], size: (item: T) => number): T[][] {
  const result: T[][] = [];
  let current: T[] = [];
  let chars = 0;
  for (const item of items) {
    const itemChars = size(item);
    if (current.length > 0 && (current.length >= WRITE_CHUNK_ROWS || chars + itemChars > WRITE_CHUNK_CHARS)) {
      result.push(current);
      current = [];
      chars = 0;
    }
    current.push(item);
    chars += itemChars;
  }
  if (current.length > 0) result.push(current);
  return result;
}

/**
 * The bound that selects exactly the stored keys after `afterKey`, in byte order. Stored keys never hold NUL or
 * lone surrogates; a cursor may (it comes from a client). Before a NUL at i: the keys after the first i characters
 * (every longer key sharing them continues with a character above NUL). Before a lone surrogate at i: SQLite orders
 * it as its 3-byte form ED A0..BF xx, between U+D7FF and U+E000, so the keys from those i characters + U+E000 on.
 */
function keyBound(afterKey: string): { key: string; inclusive: boolean } {
  const match = UNSTORABLE.exec(afterKey);
  if (match === null) return { key: afterKey, inclusive: false };
  const prefix = afterKey.slice(0, match.index);
  return match[0] === '\u0000' ? { key: prefix, inclusive: false } : { key: `${prefix}\uE000`, inclusive: true };
}


/** A checkpoint row read as text (whatever type parsers other code set on `pg`); NULL is "no checkpoint". */
function toCheckpoint(row: Pick<CheckpointRow, 'version' | 'position'>): Checkpoint | undefined {
  if (row.position === null || row.version === null) return undefined;
  if (!DECIMAL_INTEGER.test(row.position)) throw new Error(`checkpoint position ${row.position} read from PostgreSQL is not an integer`);
  const version = Number(row.version);
  if (!DECIMAL_INTEGER.test(row.version) || !Number.isSafeInteger(version)) {
    throw new Error(`checkpoint version ${row.version} read from PostgreSQL is not a safe integer`);
  }
  return { position: BigInt(row.position), version };
}
