import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * WAL pages after which a commit also checkpoints (copies the WAL back into the database and syncs it). SQLite's
 * default is 1,000 (4 MB); a group commit of 64 appends writes about 80 pages, so that meant a checkpoint every 12
 * commits. At 4,000 (a 16 MB WAL) the same pages, rewritten by many commits, are copied back once: measured about
 * 25% more appends per second with 64 in flight, at the cost of a longer (still bounded) checkpoint now and then.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 4_000;

/** How long a connection waits for another process's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * Migrations by schema version (kept in `PRAGMA user_version`): MIGRATIONS[i] takes version i to i + 1. Append new
 * entries, never edit old ones, so that every existing file reaches the same schema.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    stream_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    UNIQUE (stream_id, revision)
  );
  CREATE TABLE IF NOT EXISTS streams (
    stream_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    last_hash TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS commands (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    next_revision INTEGER NOT NULL,
    position INTEGER NOT NULL,
    event_ids TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens a SQLite file's writing connection as every durable store here needs it: creates the folder, WAL,
 * synchronous = FULL (a commit returns only after the WAL is synced, so it survives a power cut), a busy timeout so
 * two processes can share the file, and the schema brought to `migrations.length` (kept in `PRAGMA user_version`;
 * migrations[i] takes version i to i + 1). Safe to run from two processes at once: the migration takes the write lock.
 */
/**
 * FULL: a commit is on the disk before it returns (the event store: a 201 is a promise). NORMAL, in WAL mode: a
 * commit is atomic and survives the process being killed, but a power loss may take back the last commits (a store
 * that can be rebuilt from the log, whose checkpoint moves in the same transaction as its rows).
 */
export type SqliteSynchronous = 'FULL' | 'NORMAL';

export function openSqliteWriter(path: string, migrations: readonly string[], what: string, synchronous: SqliteSynchronous = 'FULL'): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const journalMode = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') throw new Error(`cannot put ${path} in WAL mode (journal_mode is ${String(journalMode)})`);
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    migrate(db, path, migrations, what);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens a read-only connection; in WAL mode it reads the last committed state without blocking the writer. */
export function openSqliteReader(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}

/** The event store's writing connection, on its schema. */
export function openWriter(path: string): Database.Database {
  return openSqliteWriter(path, MIGRATIONS, 'schema');
}

export const openReader = openSqliteReader;

function migrate(db: Database.Database, path: string, migrations: readonly string[], what: string): void {
  const latest = migrations.length;
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > latest) throw new Error(`${path} has ${what} version ${version}; this code knows versions up to ${latest}`);
    for (let next = version; next < latest; next += 1) db.exec(migrations[next]!);
    if (version !== latest) db.pragma(`user_version = ${latest}`);
  }).immediate();
}
