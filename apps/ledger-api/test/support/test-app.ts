import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import type { Role } from '@app/access';
import { attesterKeysEnv, freshCommand, generateAttester, Ledger, ManualClock, loadConfig, signProof, type LedgerConfig, type ProofRequest } from '@app/ledger';
import { DateTime } from 'luxon';
import Database from 'better-sqlite3';
import { Client as PgClient } from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app';

/** One fixed key per role, configured through LEDGER_API_KEYS as an operator would. */
export const TEST_KEYS: Record<Role, string> = {
  service: 'test-service-key-0123456789abcdef',
  admin: 'test-admin-key-0123456789abcdef00',
  auditor: 'test-auditor-key-0123456789abcdef',
  finance: 'test-finance-key-0123456789abcdef',
};

/** The exchange's authentication service in the tests: its public key is configured (LEDGER_SECOND_FACTOR_KEYS). */
export const TEST_ATTESTER = generateAttester('test-attester');

export interface TestAppOptions {
  /**
   * `off` (the default): the app starts by turning the second-factor requirement off, so suites about other rules
   * send no proofs; `required`: as a fresh ledger is, for the suites about the proof itself.
   */
  readonly secondFactor?: 'off' | 'required';
  /** JSON log lines (LEDGER_LOG_FORMAT=json, at level log) go here; without it the app logs nothing. */
  readonly jsonLogs?: { write(line: string): void };
}

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
  /** Every route the HTTP server registered (Fastify's own HEAD twins of GET routes left out). */
  readonly routes: ReadonlyArray<{ readonly method: string; readonly path: string }>;
  /** Clients per role, and one without a key. */
  readonly service: Client;
  readonly admin: Client;
  readonly auditor: Client;
  readonly finance: Client;
  readonly anonymous: Client;
  as(role: Role): Client;
  readonly clock: ManualClock;
  readonly store: EventStore;
  /** `sqlite` by default; `postgres` when the e2e-postgres jest project runs (LEDGER_E2E_STORE=postgres). */
  readonly storeKind: 'sqlite' | 'postgres';
  /** Changes the stored data of one event behind the ledger's back, as a tamperer with database access would. */
  tamperEventData(streamId: string, revision: number, from: string, to: string): Promise<void>;
  readonly config: LedgerConfig;
  /** The global position of the last event (0n when empty): "nothing appended" compares these. */
  head(): Promise<bigint>;
  /** A proof from TEST_ATTESTER, issued at the app's clock (unless the request says otherwise). */
  proof(request: Omit<ProofRequest, 'issuedAt'> & { issuedAt?: number }): Promise<string>;
  close(): Promise<void>;
}

const POSTGRES_ADMIN_URL = process.env.LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function postgresAdmin(sql: string): Promise<void> {
  const client = new PgClient({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A store for one test app: a SQLite file in a fresh folder, or a fresh PostgreSQL database. */
async function freshStore(dir: string): Promise<{
  kind: 'sqlite' | 'postgres';
  env: Record<string, string>;
  tamper: (streamId: string, revision: number, from: string, to: string) => Promise<void>;
  drop: () => Promise<void>;
}> {
  if (process.env.LEDGER_E2E_STORE !== 'postgres') {
    const dbPath = join(dir, 'ledger.db');
    return {
      kind: 'sqlite',
      env: { LEDGER_EVENT_STORE: `sqlite:${dbPath}` },
      tamper: async (streamId, revision, from, to) => {
        const db = new Database(dbPath);
        try {
          const row = db.prepare('SELECT position, data FROM events WHERE stream_id = ? AND revision = ?').get(streamId, revision) as { position: number; data: string };
          db.prepare('UPDATE events SET data = ? WHERE position = ?').run(row.data.replace(from, to), row.position);
        } finally {
          db.close();
        }
      },
      drop: async () => undefined,
    };
  }
  const database = `ledger_e2e_${randomBytes(6).toString('hex')}`;
  await postgresAdmin(`CREATE DATABASE ${database}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  return {
    kind: 'postgres',
    env: { LEDGER_EVENT_STORE: url.toString() },
    tamper: async (streamId, revision, from, to) => {
      const client = new PgClient({ connectionString: url.toString() });
      await client.connect();
      try {
        await client.query('UPDATE events SET data = replace(data, $3, $4) WHERE stream_id = $1 AND revision = $2', [streamId, revision, from, to]);
      } finally {
        await client.end();
      }
    },
    drop: () => postgresAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  };
}

export const START = DateTime.fromISO('2022-01-18T08:00:00Z', { zone: 'utc' });

/** The real application on a real SQLite file in a fresh temporary folder, with a clock the test moves. */
export async function startTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
  const backing = await freshStore(dir);
  const apiKeys = Object.entries(TEST_KEYS).map(([role, key]) => `${role}=${key}`).join(',');
  const config = loadConfig({ ...backing.env, LEDGER_DATA_DIR: dir, LEDGER_API_KEYS: apiKeys, LEDGER_SECOND_FACTOR_KEYS: attesterKeysEnv(TEST_ATTESTER), LEDGER_RISK_MONITOR: 'off', ...env });
  const clock = new ManualClock(START);
  const logs = options.jsonLogs === undefined ? { logLevels: false as const } : { logLevels: ['log' as const, 'warn' as const, 'error' as const], jsonLogDestination: options.jsonLogs };
  const app = await createApp(config, { clock, ...logs });
  const routes: Array<{ method: string; path: string }> = [];
  const fastify = app.getHttpAdapter().getInstance() as { addHook(name: 'onRoute', hook: (route: { method: string | string[]; url: string }) => void): void };
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, path: route.url });
  });
  await app.init();
  // Fastify registers its routes and plugins when ready; supertest then talks to its server directly.
  await app.getHttpAdapter().getInstance().ready();
  const store = app.get<EventStore>(EVENT_STORE);
  if ((options.secondFactor ?? 'off') === 'off') {
    const off = { type: 'ChangeSecondFactorPolicy' as const, data: { required: false, mfaThresholdUsd: null } };
    await app.get(Ledger).executePlatform(off, freshCommand({ id: 'test-setup', role: 'admin' }));
  }
  const server = app.getHttpServer();
  const clients = {
    service: client(server, TEST_KEYS.service),
    admin: client(server, TEST_KEYS.admin),
    auditor: client(server, TEST_KEYS.auditor),
    finance: client(server, TEST_KEYS.finance),
  };
  return {
    app,
    routes,
    ...clients,
    anonymous: client(server, null),
    as: (role) => clients[role],
    clock,
    store,
    storeKind: backing.kind,
    tamperEventData: backing.tamper,
    config,
    head: async () => (await store.headPosition()) ?? 0n,
    proof: (proofRequest) => signProof(TEST_ATTESTER, { issuedAt: Math.floor(clock.now().toMillis() / 1_000), ...proofRequest }),
    close: async () => {
      await app.close();
      await backing.drop();
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
