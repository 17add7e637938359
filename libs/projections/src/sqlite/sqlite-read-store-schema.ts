import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** How long a connection waits for another process's write lock before failing with SQLITE_BUSY. */
export const READ_STORE_BUSY_TIMEOUT_MS = 5_000;

/**
 * Migrations by schema version (kept in `PRAGMA user_version`): MIGRATIONS[i] takes version i to i + 1. Append new
 * entries, never edit old ones, so that every existing file reaches the same schema.
 *
 * Each filter field has a partial index that ends with the key, so a filtered list is an index range read in key
 * order (keyset paging), and rows where the field does not apply cost nothing in that index.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS checkpoints (
    projection TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rows (
    projection TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    account_id TEXT,
    incident_id TEXT,
    asset TEXT,
    status TEXT,
    PRIMARY KEY (projection, key)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS rows_by_account_id ON rows (projection, account_id, key) WHERE account_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS rows_by_incident_id ON rows (projection, incident_id, key) WHERE incident_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS rows_by_asset ON rows (projection, asset, key) WHERE asset IS NOT NULL;
  CREATE INDEX IF NOT EXISTS rows_by_status ON rows (projection, status, key) WHERE status IS NOT NULL;
  `,
];

export const READ_STORE_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens the connection that writes: creates the folder, sets the durability pragmas and brings the schema to
 * READ_STORE_SCHEMA_VERSION. Safe to run from two processes at once (the migration takes the write lock).
 */
export function openReadStoreWriter(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: READ_STORE_BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${READ_STORE_BUSY_TIMEOUT_MS}`);
    const journalMode = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') throw new Error(`cannot put ${path} in WAL mode (journal_mode is ${String(journalMode)})`);
    // FULL: a commit returns only after the WAL is synced, so a committed checkpoint survives a power cut.
    db.pragma('synchronous = FULL');
    migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens a read-only connection; in WAL mode it reads the last committed state without blocking the writer. */
export function openReadStoreReader(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: READ_STORE_BUSY_TIMEOUT_MS });
  db.pragma(`busy_timeout = ${READ_STORE_BUSY_TIMEOUT_MS}`);
  return db;
}

function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > READ_STORE_SCHEMA_VERSION) {
      throw new Error(`${path} has read store schema version ${version}; this code knows versions up to ${READ_STORE_SCHEMA_VERSION}`);
    }
    for (let next = version; next < READ_STORE_SCHEMA_VERSION; next += 1) db.exec(MIGRATIONS[next]!);
    if (version !== READ_STORE_SCHEMA_VERSION) db.pragma(`user_version = ${READ_STORE_SCHEMA_VERSION}`);
  }).immediate();
}
