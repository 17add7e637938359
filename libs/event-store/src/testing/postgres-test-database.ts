import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier, Pool, type QueryResultRow } from 'pg';

/** The server the PostgreSQL suites use: a user there must be allowed to CREATE DATABASE. */
export const POSTGRES_TEST_URL = process.env.LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Why the server does not answer, or undefined when it does. Decided before the suites are declared (jest declares
 * tests synchronously), so the probe runs in a child process.
 */
export function postgresUnreachableReason(url = POSTGRES_TEST_URL): string | undefined {
  const probe = `
    const { Client } = require(${JSON.stringify(require.resolve('pg'))});
    const client = new Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 5000 });
    client.connect().then(() => client.query('SELECT 1')).then(() => client.end())
      .then(() => process.exit(0), (error) => { console.error(error.message); process.exit(1); });`;
  const result = spawnSync(process.execPath, ['-e', probe], { env: { ...process.env, PROBE_URL: url }, encoding: 'utf8', timeout: PROBE_TIMEOUT_MS });
  if (result.status === 0) return undefined;
  return result.error?.message ?? (result.stderr.trim() || `the probe exited with status ${String(result.status)}`);
}

/** `describe` when the server answers; otherwise `describe.skip`, having printed why the suites named are skipped. */
export function describeWithPostgres(suites: string): jest.Describe {
  const unreachable = postgresUnreachableReason();
  if (unreachable === undefined) return describe;
  console.warn(
    `SKIPPING ${suites}: cannot reach ${POSTGRES_TEST_URL} (${unreachable}). ` +
      'Set LEDGER_TEST_POSTGRES_URL to a server where the user may CREATE DATABASE.',
  );
  return describe.skip;
}

export async function onPostgresServer(text: string): Promise<void> {
  const client = new Client({ connectionString: POSTGRES_TEST_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * One database on the test server, created for a suite and dropped (with every schema in it) at the end; the stores
 * a test opens through `track` are closed before the drop.
 */
export class PostgresTestDatabase<Store extends { close(): Promise<void> }> {
  readonly name: string;
  readonly url: string;
  private admin: Pool | undefined;
  private readonly opened: Store[] = [];
  private schemas = 0;

  constructor(prefix: string) {
    this.name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
    const url = new URL(POSTGRES_TEST_URL);
    url.pathname = `/${this.name}`;
    this.url = url.toString();
  }

  async create(): Promise<void> {
    await onPostgresServer(`CREATE DATABASE ${escapeIdentifier(this.name)} ENCODING 'UTF8' TEMPLATE template0`);
    this.admin = new Pool({ connectionString: this.url, max: 2 });
    // pool.end() resolves before its sockets close, so the DROP ... WITH (FORCE) that follows may end one of them
    // first: expected, and without a listener it would become an uncaught exception.
    this.admin.on('error', () => undefined);
  }

  async drop(): Promise<void> {
    await this.closeStores();
    await this.admin?.end();
    await onPostgresServer(`DROP DATABASE IF EXISTS ${escapeIdentifier(this.name)} WITH (FORCE)`);
  }

  freshSchema(prefix: string): string {
    this.schemas += 1;
    return `${prefix}_${this.schemas}`;
  }

  track<T extends Store>(store: T): T {
    this.opened.push(store);
    return store;
  }

  async closeStores(): Promise<void> {
    await Promise.all(this.opened.splice(0).map((store) => store.close()));
  }

  async query<Row extends QueryResultRow = QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
    if (this.admin === undefined) throw new Error('the test database is not created');
    return (await this.admin.query<Row>(text, values)).rows;
  }

  async dropSchema(schema: string): Promise<void> {
    await this.query(`DROP SCHEMA IF EXISTS ${escapeIdentifier(schema)} CASCADE`);
  }

  /** A connection of its own, for holding a transaction open. */
  async client(): Promise<Client> {
    const client = new Client({ connectionString: this.url });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }
}
