import { escapeIdentifier, type Pool, type PoolClient } from 'pg';

/**
 * Advisory lock classes (the first key of `pg_advisory_xact_lock(int, int)`); the second key is the schema's
 * lock key, so that two logs in two schemas of one database never wait for each other.
 */
export const MIGRATION_LOCK_CLASS = 0x4c45_4431; // 'LED1'
export const APPEND_LOCK_CLASS = 0x4c45_4432; // 'LED2'

/** How long a migration waits for another process's migration before failing the start-up. */
export const MIGRATION_LOCK_TIMEOUT_MS = 60_000;

/** PostgreSQL truncates identifiers beyond 63 bytes; a longer name would silently name another schema. */
const MAX_IDENTIFIER_BYTES = 63;
/** Plain identifiers only: a schema name also appears in notification payloads and operators' SQL. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Migrations by schema version: MIGRATIONS[i] takes version i to i + 1, in its own transaction, and records
 * version i + 1 in `schema_migrations`. Append new entries, never edit old ones, so that every existing database
 * reaches the same schema.
 *
 * Data and metadata are TEXT, not jsonb: the store keeps the exact JSON string it hashed (jsonb would reorder
 * keys and normalise numbers), so every hash recomputes from what a reader gets back.
 */
const MIGRATIONS: readonly ((schema: string) => string)[] = [
  (schema) => `
    CREATE TABLE ${schema}.events (
      position bigint PRIMARY KEY CHECK (position > 0),
      event_id uuid NOT NULL UNIQUE,
      stream_id text NOT NULL,
      revision bigint NOT NULL CHECK (revision >= 0),
      type text NOT NULL,
      data text NOT NULL,
      metadata text NOT NULL,
      UNIQUE (stream_id, revision)
    );
    CREATE TABLE ${schema}.streams (
      stream_id text PRIMARY KEY,
      revision bigint NOT NULL CHECK (revision >= 0),
      last_hash text NOT NULL
    );
    CREATE TABLE ${schema}.commands (
      key text PRIMARY KEY,
      request_hash text NOT NULL,
      stream_id text NOT NULL,
      next_revision bigint NOT NULL,
      position bigint NOT NULL,
      event_ids text NOT NULL
    );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Throws when a schema name is not a plain identifier PostgreSQL keeps as given. */
export function assertSchemaName(schema: string): void {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema) || Buffer.byteLength(schema, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new Error(`schema must be a plain identifier of at most ${MAX_IDENTIFIER_BYTES} bytes, got ${JSON.stringify(schema)}`);
  }
}

/** A signed 32-bit FNV-1a hash of the schema name: the second key of the advisory locks. */
export function schemaLockKey(schema: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(schema, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** `"schema".table`, quoted so that the name is taken as given. */
export function qualified(schema: string, table: string): string {
  return `${escapeIdentifier(schema)}.${table}`;
}

/** One store's migrations (the event store's, the read store's), run by runPostgresMigrations. */
export interface PostgresMigrations {
  /** Names the migrations in errors: "schema x has <what> version 2". */
  readonly what: string;
  /** The table, in the schema, that records the versions applied. */
  readonly table: string;
  /** The first key of the migration's advisory lock; the schema's lock key is the second. */
  readonly lockClass: number;
  /** migrations[i] takes version i to i + 1; each gets the quoted schema name. */
  readonly migrations: readonly ((quotedSchema: string) => string)[];
  /** Run once on the connection before migrating, to refuse a database the store cannot use. */
  readonly check?: (client: PoolClient) => Promise<void>;
}

/** Brings the event store's schema to SCHEMA_VERSION (see runPostgresMigrations). */
export function migrate(pool: Pool, schema: string): Promise<void> {
  return runPostgresMigrations(pool, schema, {
    what: 'event store schema',
    table: 'schema_migrations',
    lockClass: MIGRATION_LOCK_CLASS,
    migrations: MIGRATIONS,
  });
}

/**
 * Gives every connection of the pool an error listener for its whole life. pg-pool takes its own listener away when
 * it hands a connection out, and the caller can add one only once the hand-out has resolved: a server that ends the
 * connection in between (pg_terminate_backend, a restart: its FATAL can arrive in the same packet as the new
 * connection's first ReadyForQuery) would emit 'error' with no listener, which crashes the process. The caller's
 * listener and the pool's still see every error; this one only keeps the process alive.
 */
export function keepConnectionErrorsFromCrashing(pool: Pool): void {
  pool.on('connect', (client) => client.on('error', () => undefined));
}

/**
 * Brings a schema to the last of its migrations, one migration per transaction. Every transaction first takes a
 * transaction-scoped advisory lock, then reads the version: two processes starting at once run each migration
 * exactly once, and the second one sees the first one's work.
 */
export async function runPostgresMigrations(pool: Pool, schema: string, spec: PostgresMigrations): Promise<void> {
  const client = await pool.connect();
  let fault: Error | undefined;
  // A checked-out client has no error listener; a dropped socket would otherwise crash the process.
  const onError = (error: Error): void => {
    fault = error;
  };
  client.on('error', onError);
  try {
    await spec.check?.(client);
    while (await migrateOneStep(client, schema, spec)) {
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
async function migrateOneStep(client: PoolClient, schema: string, spec: PostgresMigrations): Promise<boolean> {
  const quoted = escapeIdentifier(schema);
  const latest = spec.migrations.length;
  await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = ${MIGRATION_LOCK_TIMEOUT_MS}`);
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [spec.lockClass, schemaLockKey(schema)]);
    // Checked first: CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege on the database.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.${spec.table} (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const result = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${quoted}.${spec.table}`);
    const version = result.rows[0]?.version ?? 0;
    if (version > latest) throw new Error(`schema ${schema} has ${spec.what} version ${version}; this code knows versions up to ${latest}`);
    if (version === latest) {
      await client.query('COMMIT');
      return false;
    }
    await client.query(spec.migrations[version]!(quoted));
    await client.query(`INSERT INTO ${quoted}.${spec.table} (version) VALUES ($1)`, [version + 1]);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
