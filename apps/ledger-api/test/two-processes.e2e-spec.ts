import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

interface StoreUnderTest {
  /** The LEDGER_EVENT_STORE both processes share; undefined when the store cannot be had here (the reason is printed). */
  create(): Promise<string | undefined>;
  drop(): Promise<void>;
}

const sqliteFile = (): StoreUnderTest => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-two-api-'));
  return { create: async () => `sqlite:${join(dir, 'ledger.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
};

const postgresDatabase = (): StoreUnderTest => {
  const database = `ledger_two_api_${randomBytes(4).toString('hex')}`;
  let created = false;
  return {
    create: async () => {
      if (!(await reachable())) {
        console.warn(`two-process PostgreSQL test skipped: no PostgreSQL at ${ADMIN_URL} (set LEDGER_TEST_POSTGRES_URL)`);
        return undefined;
      }
      await admin(`CREATE DATABASE ${database}`);
      created = true;
      const url = new URL(ADMIN_URL);
      url.pathname = `/${database}`;
      return url.toString();
    },
    drop: async () => {
      if (created) await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
};

/**
 * Two API processes on one store. The expected revision, not a process lock, prevents overdrafts; and neither
 * process decides on its own stale copy of an account the other changed (a refusal never meets that check).
 */
function twoProcesses(name: string, makeStore: () => StoreUnderTest): void {
  describe(`two API processes on one ${name}`, () => {
    let available = false;
    const store = makeStore();
    const servers: ServerProcess[] = [];

    beforeAll(async () => {
      const location = await store.create();
      if (location === undefined) return;
      available = true;
      const env = { LEDGER_EVENT_STORE: location, LEDGER_API_KEYS: PROCESS_API_KEYS, LEDGER_LOG_LEVEL: 'warn' };
      servers.push(await startServer(env));
      servers.push(await startServer(env));
      expect((await post(`${servers[0]!.url}/v1/platform/withdrawal-policy`, { newAddressHoldHours: 0 })).status).toBe(201);
      // This suite is about stale folds, not the proof (second-factor.e2e-spec): the requirement is off here.
      expect((await post(`${servers[0]!.url}/v1/platform/second-factor-policy`, { required: false, mfaThresholdUsd: null })).status).toBe(201);
    }, 60_000);

    afterAll(async () => {
      for (const server of servers) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
      await store.drop();
    });

    const withdraw = (server: ServerProcess, accountId: string, withdrawalId: string) =>
      post(`${server.url}/v1/accounts/${accountId}/withdrawals`, {
        withdrawalId, asset: 'ETH', amount: '1', address: ADDRESS, twoFactorTokenId: 'tok-1',
      });

    it('decides on what the other process appended: its token and address, its withdrawal, its revocations', async () => {
      if (!available) return;
      const [a, b] = servers as [ServerProcess, ServerProcess];
      // a opens (and keeps the account folded); b funds it, enrols its token and whitelists its address.
      expect((await post(`${a.url}/v1/accounts`, { accountId: 'fresh' })).status).toBe(201);
      expect((await post(`${b.url}/v1/accounts/fresh/deposits`, { depositId: 'd1', asset: 'ETH', amount: '3' })).status).toBe(201);
      expect((await post(`${b.url}/v1/accounts/fresh/two-factor-tokens`, { tokenId: 'tok-1', method: 'totp' })).status).toBe(201);
      expect((await post(`${b.url}/v1/accounts/fresh/whitelisted-addresses`, { asset: 'ETH', address: ADDRESS })).status).toBe(201);
      expect((await withdraw(a, 'fresh', 'w-a')).status).toBe(201);
      // Requested on b, approved on a.
      expect((await withdraw(b, 'fresh', 'w-b')).status).toBe(201);
      expect((await post(`${a.url}/v1/accounts/fresh/withdrawals/w-b/approve`, {})).status).toBe(201);
      // Revoked on b: a refuses the next withdrawal with that token.
      expect((await post(`${b.url}/v1/accounts/fresh/two-factor-tokens/tok-1/revoke`, { reason: 'lost phone' })).status).toBe(201);
      const refused = await withdraw(a, 'fresh', 'w-c');
      expect(refused).toMatchObject({ status: 422, body: { code: 'TWO_FACTOR_REVOKED' } });
    });

    it('accepts exactly 10 of 100 concurrent withdrawals of 1 on a balance of 10, split over both processes', async () => {
      if (!available) return;
      const [a, b] = servers as [ServerProcess, ServerProcess];
      expect((await post(`${a.url}/v1/accounts`, { accountId: 'shared' })).status).toBe(201);
      expect((await post(`${b.url}/v1/accounts/shared/deposits`, { depositId: 'd1', asset: 'ETH', amount: '10' })).status).toBe(201);
      expect((await post(`${a.url}/v1/accounts/shared/two-factor-tokens`, { tokenId: 'tok-1', method: 'totp' })).status).toBe(201);
      expect((await post(`${b.url}/v1/accounts/shared/whitelisted-addresses`, { asset: 'ETH', address: ADDRESS })).status).toBe(201);

      const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => withdraw(i % 2 === 0 ? a : b, 'shared', `w-${i}`)));
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
}

twoProcesses('SQLite file', sqliteFile);
twoProcesses('PostgreSQL database', postgresDatabase);
