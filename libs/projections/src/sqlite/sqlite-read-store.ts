import type Database from 'better-sqlite3';
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
  type Promotion,
  type ReadStore,
  type SnapshotMark,
  type SnapshotRequest,
} from '../read-store.port';
import { openReadStoreReader, openReadStoreWriter } from './sqlite-read-store-schema';
import { FILTER_COLUMNS, toReadModelRow, type StoredRow } from '../sql-rows';

export interface SqliteReadStoreOptions {
  /** Path of the database file (not the event store's); its folder is created if missing. */
  readonly path: string;
}

/** The connection settings that durability and multi-process access rely on, as SQLite reports them. */
export interface SqliteReadStoreSettings {
  readonly journalMode: string;
  /** 2 is FULL. */
  readonly synchronous: number;
  readonly busyTimeoutMs: number;
  readonly schemaVersion: number;
}

export function openSqliteReadStore(options: SqliteReadStoreOptions): SqliteReadStore {
  return new SqliteReadStore(options);
}

interface CheckpointRow {
  readonly version: number;
  readonly position: number;
}



const ROW_COLUMNS = 'key, doc, account_id, incident_id, asset, status';

function prepareWrites(db: Database.Database) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    selectCheckpoint: db.prepare<[string], CheckpointRow>('SELECT version, position FROM checkpoints WHERE projection = ?'),
    upsertCheckpoint: db.prepare<[string, number, number]>(
      `INSERT INTO checkpoints (projection, version, position) VALUES (?, ?, ?)
       ON CONFLICT (projection) DO UPDATE SET version = excluded.version, position = excluded.position`,
    ),
    // Most commits rewrite rows whose index fields stay the same: setting only the doc leaves the four indexes
    // untouched (SQLite maintains an index only when the UPDATE sets one of its columns), which halves the pages a
    // batch dirties. A new row, or one whose index fields changed, matches nothing here and goes to upsertRow.
    updateDoc: db.prepare<[string, string, string, string | null, string | null, string | null, string | null]>(
      `UPDATE rows SET doc = ? WHERE projection = ? AND key = ?
         AND account_id IS ? AND incident_id IS ? AND asset IS ? AND status IS ?`,
    ),
    upsertRow: db.prepare<[string, string, string, string | null, string | null, string | null, string | null]>(
      `INSERT INTO rows (projection, key, doc, account_id, incident_id, asset, status) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (projection, key) DO UPDATE SET doc = excluded.doc, account_id = excluded.account_id,
         incident_id = excluded.incident_id, asset = excluded.asset, status = excluded.status`,
    ),
    deleteRow: db.prepare<[string, string]>('DELETE FROM rows WHERE projection = ? AND key = ?'),
    deleteRows: db.prepare<[string]>('DELETE FROM rows WHERE projection = ?'),
    deleteCheckpoint: db.prepare<[string]>('DELETE FROM checkpoints WHERE projection = ?'),
    renameRows: db.prepare<[string, string]>('UPDATE rows SET projection = ? WHERE projection = ?'),
    renameCheckpoint: db.prepare<[string, string]>('UPDATE checkpoints SET projection = ? WHERE projection = ?'),
    selectRows: db.prepare<[string], StoredRow>(`SELECT ${ROW_COLUMNS} FROM rows WHERE projection = ? ORDER BY key`),
    selectRow: db.prepare<[string, string], StoredRow>(`SELECT ${ROW_COLUMNS} FROM rows WHERE projection = ? AND key = ?`),
    copyRows: db.prepare<[string, string]>(
      `INSERT INTO rows (projection, key, doc, account_id, incident_id, asset, status)
       SELECT ?, key, doc, account_id, incident_id, asset, status FROM rows WHERE projection = ?`,
    ),
  };
}

function prepareReads(db: Database.Database) {
  return {
    checkpoint: db.prepare<[string], CheckpointRow>('SELECT version, position FROM checkpoints WHERE projection = ?'),
    row: db.prepare<[string, string], StoredRow>(`SELECT ${ROW_COLUMNS} FROM rows WHERE projection = ? AND key = ?`),
  };
}

/**
 * The read models on a SQLite file of their own (not the event store's): WAL, synchronous = NORMAL, one connection
 * that writes and one that reads. A batch of every projection is one transaction, so rows and checkpoints move
 * together; the checkpoint check inside that transaction is what makes two runners on one file safe.
 */
export class SqliteReadStore implements ReadStore {
  readonly path: string;
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writes: ReturnType<typeof prepareWrites>;
  private readonly reads: ReturnType<typeof prepareReads>;
  /** List statements by the shape of their filter: at most 3^4 * 2 of them. */
  private readonly listStatements = new Map<string, Database.Statement<Record<string, unknown>, StoredRow>>();
  private closed = false;

  constructor(options: SqliteReadStoreOptions) {
    const { path } = options;
    if (path === '' || path === ':memory:') throw new Error('the sqlite read store needs a file path');
    this.path = path;
    this.writer = openReadStoreWriter(path);
    try {
      this.reader = openReadStoreReader(path);
    } catch (error) {
      this.writer.close();
      throw error;
    }
    this.writes = prepareWrites(this.writer);
    this.reads = prepareReads(this.reader);
  }

  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    this.assertOpen();
    const row = this.reads.checkpoint.get(projection);
    return row === undefined ? undefined : toCheckpoint(row);
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
    this.writes.begin.run();
    try {
      for (const commit of commits) this.applyCommit(commit);
      this.writes.commit.run();
    } catch (error) {
      // SQLite rolls back by itself after some errors (disk full, I/O); only roll back what is still open.
      if (this.writer.inTransaction) this.writes.rollback.run();
      throw error;
    }
  }

  async get<Doc>(projection: string, key: string): Promise<ReadModelRow<Doc> | undefined> {
    this.assertOpen();
    const row = this.reads.row.get(projection, key);
    return row === undefined ? undefined : toReadModelRow<Doc>(row);
  }

  async list<Doc>(projection: string, query: ListQuery): Promise<ReadModelRow<Doc>[]> {
    this.assertOpen();
    assertListLimit(query.limit);
    const { statement, params } = this.listStatement(projection, query);
    return statement.all(params).map((row) => toReadModelRow<Doc>(row));
  }

  async *rows(projection: string): AsyncGenerator<ReadModelRow> {
    let afterKey: string | undefined;
    for (;;) {
      // One page per query (all(), not iterate()): no statement stays open across a yield.
      const page = await this.list(projection, { afterKey, limit: ROWS_PAGE_SIZE });
      yield* page;
      if (page.length < ROWS_PAGE_SIZE) return;
      afterKey = page[page.length - 1]!.key;
    }
  }

  async reset(projection: string): Promise<void> {
    this.assertOpen();
    assertProjectionName(projection);
    this.inWriteTransaction(() => {
      this.writes.deleteRows.run(projection);
      this.writes.deleteCheckpoint.run(projection);
    });
  }

  /** One write transaction: readers (WAL) keep seeing the targets as they were until it commits. */
  async promote(promotions: readonly Promotion[]): Promise<void> {
    this.assertOpen();
    assertPromotions(promotions);
    this.inWriteTransaction(() => {
      for (const { staged, target } of promotions) {
        this.writes.deleteRows.run(target);
        this.writes.deleteCheckpoint.run(target);
        this.writes.renameRows.run(target, staged);
        this.writes.renameCheckpoint.run(target, staged);
      }
    });
  }

  /** One write transaction: the checkpoint check, the removal of other versions' snapshots, the copy, the mark. */
  async takeSnapshot(request: SnapshotRequest): Promise<void> {
    this.assertOpen();
    assertSnapshotRequest(request);
    const { source, projection, version, position, recordedAtHighWaterMs } = request;
    toSafeNumber(position, 'position');
    const name = snapshotName(projection, position);
    this.inWriteTransaction(() => {
      const stored = this.writes.selectCheckpoint.get(source);
      const current = stored === undefined ? undefined : toCheckpoint(stored);
      if (!checkpointMatches(current, version, request.from)) throw new CheckpointMovedError(source, request.from, current);
      const marksName = snapshotMarksName(projection);
      for (const stored of this.writes.selectRows.all(marksName)) {
        const mark = markOfRow(projection, toReadModelRow(stored));
        if (mark.version === version && mark.position !== position) continue;
        this.writes.deleteRows.run(snapshotName(projection, mark.position));
        this.writes.deleteRow.run(marksName, stored.key);
      }
      this.writes.deleteRows.run(name);
      this.writes.copyRows.run(name, source);
      this.applyChanges(name, request.changes);
      const mark = markRow({ projection, version, position, recordedAtHighWaterMs });
      this.applyChanges(marksName, new Map([[mark.key, mark]]));
    });
  }

  snapshots(projection: string): Promise<SnapshotMark[]> {
    this.assertOpen();
    return readSnapshotMarks(this, projection);
  }

  async recordSnapshotHighWater(projection: string, position: bigint, recordedAtHighWaterMs: number): Promise<void> {
    this.assertOpen();
    const marksName = snapshotMarksName(projection);
    const key = markRow({ projection, version: 1, position, recordedAtHighWaterMs }).key;
    this.inWriteTransaction(() => {
      const stored = this.writes.selectRow.get(marksName, key);
      if (stored === undefined) return;
      const mark = markRow({ ...markOfRow(projection, toReadModelRow(stored)), recordedAtHighWaterMs });
      this.applyChanges(marksName, new Map([[mark.key, mark]]));
    });
  }

  private inWriteTransaction(work: () => void): void {
    this.writes.begin.run();
    try {
      work();
      this.writes.commit.run();
    } catch (error) {
      if (this.writer.inTransaction) this.writes.rollback.run();
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reader.close();
    this.writer.close();
  }

  /** The pragmas of the writing connection, for operators and tests. */
  connectionSettings(): SqliteReadStoreSettings {
    this.assertOpen();
    const pragma = (name: string): unknown => this.writer.pragma(name, { simple: true });
    return {
      journalMode: String(pragma('journal_mode')),
      synchronous: Number(pragma('synchronous')),
      busyTimeoutMs: Number(pragma('busy_timeout')),
      schemaVersion: Number(pragma('user_version')),
    };
  }

  /** SQLite's plan for a list query, so tests and operators can see that a filter uses its index. */
  listQueryPlan(projection: string, query: ListQuery): string[] {
    this.assertOpen();
    const { sql, params } = this.listSql(projection, query);
    const plan = this.reader.prepare<Record<string, unknown>, { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(params);
    return plan.map((step) => step.detail);
  }

  private applyCommit(commit: ProjectionCommit): void {
    const stored = this.writes.selectCheckpoint.get(commit.projection);
    const current = stored === undefined ? undefined : toCheckpoint(stored);
    if (!checkpointMatches(current, commit.version, commit.from)) {
      throw new CheckpointMovedError(commit.projection, commit.from, current);
    }
    this.applyChanges(commit.projection, commit.changes);
    this.writes.upsertCheckpoint.run(commit.projection, commit.version, toSafeNumber(commit.to, 'position'));
  }

  private applyChanges(projection: string, changes: ReadonlyMap<string, ReadModelRow | null>): void {
    for (const [key, row] of changes) {
      if (row === null) {
        this.writes.deleteRow.run(projection, key);
        continue;
      }
      const json = JSON.stringify(row.doc);
      if (typeof json !== 'string') throw new TypeError(`row ${key} of ${projection} has no JSON form`);
      const { accountId, incidentId, asset, status } = normalizeIndex(row.index);
      const updated = this.writes.updateDoc.run(json, projection, key, accountId, incidentId, asset, status);
      if (updated.changes === 0) this.writes.upsertRow.run(projection, key, json, accountId, incidentId, asset, status);
    }
  }

  private listStatement(projection: string, query: ListQuery) {
    const { sql, shape, params } = this.listSql(projection, query);
    let statement = this.listStatements.get(shape);
    if (statement === undefined) {
      statement = this.reader.prepare<Record<string, unknown>, StoredRow>(sql);
      this.listStatements.set(shape, statement);
    }
    return { statement, params };
  }

  /**
   * The list query for a filter. The index is chosen explicitly (INDEXED BY), the first given field in the order
   * account, incident, asset, status, so the plan never depends on statistics: rows come from one index range in key
   * order, and the other fields are checked on those rows.
   */
  private listSql(projection: string, query: ListQuery): { sql: string; shape: string; params: Record<string, unknown> } {
    const filter: IndexFields = query.filter ?? {};
    const conditions = ['projection = @projection'];
    const params: Record<string, unknown> = { projection, limit: query.limit };
    let indexed = '';
    let shape = '';
    for (const field of INDEX_FIELD_NAMES) {
      const value = filter[field];
      const column = FILTER_COLUMNS[field];
      if (value === undefined) {
        shape += '-';
      } else if (value === null) {
        shape += '0';
        conditions.push(`${column} IS NULL`);
      } else {
        if (typeof value !== 'string') throw new TypeError(`filter field ${field} must be a string or null`);
        shape += '1';
        conditions.push(`${column} = @${field}`);
        params[field] = value;
        if (indexed === '') indexed = `INDEXED BY rows_by_${column}`;
      }
    }
    if (query.afterKey !== undefined) {
      shape += 'a';
      conditions.push('key > @afterKey');
      params['afterKey'] = query.afterKey;
    }
    const sql = `SELECT ${ROW_COLUMNS} FROM rows ${indexed} WHERE ${conditions.join(' AND ')} ORDER BY key LIMIT @limit`;
    return { sql, shape, params };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the sqlite read store is closed');
  }
}


function toCheckpoint(row: CheckpointRow): Checkpoint {
  if (!Number.isSafeInteger(row.position)) throw new Error(`checkpoint position ${String(row.position)} is not a safe integer`);
  return { position: BigInt(row.position), version: row.version };
}

/** An integer written to SQLite: must be exact as a JavaScript number. */
function toSafeNumber(value: bigint, what: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || BigInt(number) !== value) throw new Error(`${what} ${String(value)} is not a safe integer`);
  return number;
}
