import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { get, post, PROCESS_API_KEYS, startServer, type ServerProcess } from './support/server-process';

const ADMIN_URL = process.env.LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADDRESS = '0xA11CE00000000000000000000000000000000001';

async function reachable(): Promise<boolean> {
  const client = new Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Two API processes on one PostgreSQL database: the expected revision, not a process lock, prevents overdrafts. */
describe('two API processes on one PostgreSQL database', () => {
  let available = false;
  const database = `ledger_two_api_${randomBytes(4).toString('hex')}`;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    available = await reachable();
    if (!available) {
      console.warn(`two-process PostgreSQL test skipped: no PostgreSQL at ${ADMIN_URL} (set LEDGER_TEST_POSTGRES_URL)`);
      return;
    }
    await admin(`CREATE DATABASE ${database}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    const env = { LEDGER_EVENT_STORE: url.toString(), LEDGER_API_KEYS: PROCESS_API_KEYS, LEDGER_LOG_LEVEL: 'warn' };
    servers.push(await startServer(env));
    servers.push(await startServer(env));
  });

  afterAll(async () => {
    for (const server of servers) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    if (available) await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('accepts exactly 10 of 100 concurrent withdrawals of 1 on a balance of 10, split over both processes', async () => {
    if (!available) return;
    const [a, b] = servers as [ServerProcess, ServerProcess];
    expect((await post(`${a.url}/v1/platform/withdrawal-policy`, { newAddressHoldHours: 0 })).status).toBe(201);
    expect((await post(`${a.url}/v1/accounts`, { accountId: 'shared' })).status).toBe(201);
    expect((await post(`${b.url}/v1/accounts/shared/deposits`, { depositId: 'd1', asset: 'ETH', amount: '10' })).status).toBe(201);
    expect((await post(`${a.url}/v1/accounts/shared/two-factor-tokens`, { tokenId: 'tok-1', method: 'totp' })).status).toBe(201);
    expect((await post(`${b.url}/v1/accounts/shared/whitelisted-addresses`, { asset: 'ETH', address: ADDRESS })).status).toBe(201);

    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        post(`${(i % 2 === 0 ? a : b).url}/v1/accounts/shared/withdrawals`, {
          withdrawalId: `w-${i}`, asset: 'ETH', amount: '1', address: ADDRESS, twoFactorTokenId: 'tok-1',
        }),
      ),
    );
    const accepted = responses.filter((response) => response.status === 201);
    expect(accepted).toHaveLength(10);
    // Refusals are business refusals (or, if one process kept losing races, a 409 asking to retry): never a 5xx.
    expect(responses.every((response) => [201, 409, 422].includes(response.status))).toBe(true);
    for (const server of servers) {
      const balances = await get(`${server.url}/v1/accounts/shared/balances`);
      expect(balances.body.balances.ETH).toMatchObject({ available: '0', held: '10', deposited: '10' });
    }
  });
});
