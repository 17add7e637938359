import { BUSY_TIMEOUT_MS, openSqliteReader, openSqliteWriter } from '@app/event-store/sqlite/sqlite-schema';
import type Database from 'better-sqlite3';

/** How long a connection waits for another process's write lock before failing with SQLITE_BUSY. */
export const READ_STORE_BUSY_TIMEOUT_MS = BUSY_TIMEOUT_MS;

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

/** The read store's writing connection: the same durable set-up as the event store's, on the read store's schema. */
export function openReadStoreWriter(path: string): Database.Database {
  // The read models are rebuilt from the log, and a batch's rows and checkpoint commit together: a power loss that
  // takes back the last commits only makes the runner fold those events again. No fsync per batch, then, which in
  // the API process is a stall of the event loop after every group of commands.
  return openSqliteWriter(path, MIGRATIONS, 'read store schema', 'NORMAL');
}

export const openReadStoreReader = openSqliteReader;
