import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ManualClock, loadConfig, type LedgerConfig, type Role } from '@app/ledger';
import { DateTime } from 'luxon';
import request from 'supertest';
import { createApp } from '../../src/app';

/** One fixed key per role, configured through LEDGER_API_KEYS as an operator would. */
export const TEST_KEYS: Record<Role, string> = {
  service: 'test-service-key-0123456789abcdef',
  admin: 'test-admin-key-0123456789abcdef00',
  auditor: 'test-auditor-key-0123456789abcdef',
  finance: 'test-finance-key-0123456789abcdef',
};

/** A client holding one key: every request it sends carries `Authorization: Bearer <key>`. */
export interface Client {
  get(url: string): request.Test;
  post(url: string): request.Test;
}

function client(server: Parameters<typeof request>[0], key: string | null): Client {
  const withKey = (test: request.Test): request.Test => (key === null ? test : test.set('Authorization', `Bearer ${key}`));
  return { get: (url) => withKey(request(server).get(url)), post: (url) => withKey(request(server).post(url)) };
}

export interface TestApp {
  readonly app: INestApplication;
  /** Clients per role, and one without a key. */
  readonly service: Client;
  readonly admin: Client;
  readonly auditor: Client;
  readonly finance: Client;
  readonly anonymous: Client;
  as(role: Role): Client;
  readonly clock: ManualClock;
  readonly store: EventStore;
  readonly dbPath: string;
  readonly config: LedgerConfig;
  /** The global position of the last event (0n when empty): "nothing appended" compares these. */
  head(): Promise<bigint>;
  close(): Promise<void>;
}

export const START = DateTime.fromISO('2022-01-18T08:00:00Z', { zone: 'utc' });

/** The real application on a real SQLite file in a fresh temporary folder, with a clock the test moves. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
  const dbPath = join(dir, 'ledger.db');
  const apiKeys = Object.entries(TEST_KEYS).map(([role, key]) => `${role}=${key}`).join(',');
  const config = loadConfig({ LEDGER_EVENT_STORE: `sqlite:${dbPath}`, LEDGER_API_KEYS: apiKeys, ...env });
  const clock = new ManualClock(START);
  const app = await createApp(config, { clock, logLevels: false });
  await app.init();
  const store = app.get<EventStore>(EVENT_STORE);
  const server = app.getHttpServer();
  const clients = {
    service: client(server, TEST_KEYS.service),
    admin: client(server, TEST_KEYS.admin),
    auditor: client(server, TEST_KEYS.auditor),
    finance: client(server, TEST_KEYS.finance),
  };
  return {
    app,
    ...clients,
    anonymous: client(server, null),
    as: (role) => clients[role],
    clock,
    store,
    dbPath,
    config,
    head: async () => (await store.headPosition()) ?? 0n,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const ADDRESS_1 = '0xA11CE00000000000000000000000000000000001';
export const ADDRESS_2 = '0xB0B0000000000000000000000000000000000002';

/** Opens an account with ETH, a 2FA token and an address whose hold has passed. */
export async function fundedAccount(t: TestApp, accountId: string, eth = '10'): Promise<void> {
  await t.service.post('/v1/accounts').send({ accountId }).expect(201);
  await t.service.post(`/v1/accounts/${accountId}/deposits`).send({ depositId: 'dep-1', asset: 'ETH', amount: eth }).expect(201);
  await t.service.post(`/v1/accounts/${accountId}/two-factor-tokens`).send({ tokenId: 'tok-1', method: 'totp' }).expect(201);
  await t.service.post(`/v1/accounts/${accountId}/whitelisted-addresses`).send({ asset: 'ETH', address: ADDRESS_1 }).expect(201);
  t.clock.advance({ hours: 25 });
}

/** The role that may send a command route (the access matrix): admins run platform and incident commands. */
export function roleFor(path: string): Role {
  return /^\/v1\/(platform|incidents|prices)|\/(unauthorized|reimbursements)$/.test(path) ? 'admin' : 'service';
}
