import { escapeIdentifier, type Pool, type PoolClient } from 'pg';

/**
 * The first key of `pg_advisory_xact_lock(int, int)` that read store migrations take; the second key is the
 * schema's lock key, so that two read stores in two schemas of one database never wait for each other. Another
 * class than the event store's ('LED1', 'LED2'), so that a read store beside a log never waits for its appends.
 */
export const READ_STORE_MIGRATION_LOCK_CLASS = 0x4c52_5331; // 'LRS1'

/** How long a migration waits for another process's migration before failing the start-up. */
export const READ_STORE_MIGRATION_LOCK_TIMEOUT_MS = 60_000;

/** PostgreSQL truncates identifiers beyond 63 bytes; a longer name would silently name another schema. */
const MAX_IDENTIFIER_BYTES = 63;
/** Plain identifiers only, as the event store takes them. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

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

/** Throws when a schema name is not a plain identifier PostgreSQL keeps as given. */
export function assertReadStoreSchemaName(schema: string): void {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema) || Buffer.byteLength(schema, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new Error(`schema must be a plain identifier of at most ${MAX_IDENTIFIER_BYTES} bytes, got ${JSON.stringify(schema)}`);
  }
}

/** A signed 32-bit FNV-1a hash of the schema name: the second key of the migration lock. */
export function readStoreLockKey(schema: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(schema, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/**
 * Brings the schema to POSTGRES_READ_STORE_SCHEMA_VERSION, one migration per transaction. Every transaction first
 * takes a transaction-scoped advisory lock, then reads the version: two processes starting at once run each
 * migration exactly once, and the second one sees the first one's work. Refuses a database whose encoding is not
 * UTF8 (keys would not be stored as given, nor ordered by code point).
 */
export async function migrateReadStore(pool: Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  let fault: Error | undefined;
  // A checked-out client has no error listener; a dropped socket would otherwise crash the process.
  const onError = (error: Error): void => {
    fault = error;
  };
  client.on('error', onError);
  try {
    const encoding = await client.query<{ server_encoding: string }>('SHOW server_encoding');
    if (encoding.rows[0]?.server_encoding !== 'UTF8') {
      throw new Error(`the postgres read store needs a UTF8 database, this one is ${String(encoding.rows[0]?.server_encoding)}`);
    }
    while (await migrateOneStep(client, schema)) {
      // Each step commits one migration; loop until the schema is current.
    }
  } catch (error) {
    fault ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.removeListener('error', onError);
    // A client whose transaction failed is destroyed rather than returned to the pool in an unknown state.
    client.release(fault);
  }
}

/** Applies the next migration, if any; returns whether it applied one. */
async function migrateOneStep(client: PoolClient, schema: string): Promise<boolean> {
  const quoted = escapeIdentifier(schema);
  await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = ${READ_STORE_MIGRATION_LOCK_TIMEOUT_MS}`);
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [READ_STORE_MIGRATION_LOCK_CLASS, readStoreLockKey(schema)]);
    // Checked first: CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege on the database.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.read_store_migrations (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const result = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${quoted}.read_store_migrations`);
    const version = result.rows[0]?.version ?? 0;
    if (version > POSTGRES_READ_STORE_SCHEMA_VERSION) {
      throw new Error(
        `schema ${schema} has read store schema version ${version}; this code knows versions up to ${POSTGRES_READ_STORE_SCHEMA_VERSION}`,
      );
    }
    if (version === POSTGRES_READ_STORE_SCHEMA_VERSION) {
      await client.query('COMMIT');
      return false;
    }
    await client.query(MIGRATIONS[version]!(quoted));
    await client.query(`INSERT INTO ${quoted}.read_store_migrations (version) VALUES ($1)`, [version + 1]);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
