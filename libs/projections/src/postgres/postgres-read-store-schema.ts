import { runPostgresMigrations } from '@app/event-store/postgres/postgres-schema';
import type { Pool, PoolClient } from 'pg';

export { assertSchemaName as assertReadStoreSchemaName } from '@app/event-store/postgres/postgres-schema';

/**
 * The first key of `pg_advisory_xact_lock(int, int)` that read store migrations take; the second key is the
 * schema's lock key, so that two read stores in two schemas of one database never wait for each other. Another
 * class than the event store's ('LED1', 'LED2'), so that a read store beside a log never waits for its appends.
 */
export const READ_STORE_MIGRATION_LOCK_CLASS = 0x4c52_5331; // 'LRS1'

/**
 * Migrations by schema version: MIGRATIONS[i] takes version i to i + 1, in its own transaction, and records
 * version i + 1 in `read_store_migrations` (not `schema_migrations`: the event store keeps that table, and an
 * operator may put both in one schema). Append new entries, never edit old ones.
 *
 * - Every text column is COLLATE "C": keys are ordered by their UTF-8 bytes, that is by code point, as SQLite's
 *   BINARY collation orders them (and `compareKeys`), whatever the database's collation; and equality is byte
 *   equality.
 * - `doc` is text, not jsonb: the store returns exactly the JSON it was given (jsonb would refuse `\u0000` in a
 *   string, and reorder keys), as the SQLite store does.
 * - A checkpoint row with NULL version and position means "no checkpoint": a projection keeps its row once it has
 *   one (reset clears it), so that every commit can lock it (see the commit in postgres-read-store.ts).
 * - Each filter field has a partial index that ends with the key, so a filtered list is an index range read in key
 *   order (keyset paging), and rows where the field does not apply cost nothing in that index.
 * - fillfactor 90 leaves room on each page for the new version of a row a later batch rewrites, so that most
 *   rewrites (same index fields) are HOT updates that touch no index.
 */
const MIGRATIONS: readonly ((schema: string) => string)[] = [
  (schema) => `
    CREATE TABLE ${schema}.checkpoints (
      projection text COLLATE "C" PRIMARY KEY,
      version bigint CHECK (version > 0),
      position bigint CHECK (position > 0),
      CHECK ((version IS NULL) = (position IS NULL))
    );
    CREATE TABLE ${schema}.rows (
      projection text COLLATE "C" NOT NULL,
      key text COLLATE "C" NOT NULL,
      doc text NOT NULL,
      account_id text COLLATE "C",
      incident_id text COLLATE "C",
      asset text COLLATE "C",
      status text COLLATE "C",
      PRIMARY KEY (projection, key)
    ) WITH (fillfactor = 90);
    CREATE INDEX rows_by_account_id ON ${schema}.rows (projection, account_id, key) WHERE account_id IS NOT NULL;
    CREATE INDEX rows_by_incident_id ON ${schema}.rows (projection, incident_id, key) WHERE incident_id IS NOT NULL;
    CREATE INDEX rows_by_asset ON ${schema}.rows (projection, asset, key) WHERE asset IS NOT NULL;
    CREATE INDEX rows_by_status ON ${schema}.rows (projection, status, key) WHERE status IS NOT NULL;
  `,
];

export const POSTGRES_READ_STORE_SCHEMA_VERSION = MIGRATIONS.length;

/** Refuses a database whose encoding is not UTF8: keys would not be stored as given, nor ordered by code point. */
async function assertUtf8(client: PoolClient): Promise<void> {
  const encoding = await client.query<{ server_encoding: string }>('SHOW server_encoding');
  if (encoding.rows[0]?.server_encoding !== 'UTF8') {
    throw new Error(`the postgres read store needs a UTF8 database, this one is ${String(encoding.rows[0]?.server_encoding)}`);
  }
}

/**
 * Brings the schema to POSTGRES_READ_STORE_SCHEMA_VERSION with the event store's migration runner (one migration
 * per transaction, under an advisory lock of the read store's own class).
 */
export function migrateReadStore(pool: Pool, schema: string): Promise<void> {
  return runPostgresMigrations(pool, schema, {
    what: 'read store schema',
    table: 'read_store_migrations',
    lockClass: READ_STORE_MIGRATION_LOCK_CLASS,
    migrations: MIGRATIONS,
    check: assertUtf8,
  });
}
