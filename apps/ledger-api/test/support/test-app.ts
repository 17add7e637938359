import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ManualClock, loadConfig, type LedgerConfig } from '@app/ledger';
import { DateTime } from 'luxon';
import request from 'supertest';
import { createApp } from '../../src/app';

export interface TestApp {
  readonly app: INestApplication;
  readonly http: ReturnType<typeof request>;
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
export async function startTestApp(): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
  const dbPath = join(dir, 'ledger.db');
  const config = loadConfig({ LEDGER_EVENT_STORE: `sqlite:${dbPath}` });
  const clock = new ManualClock(START);
  const app = await createApp(config, { clock, logger: false });
  await app.init();
  const store = app.get<EventStore>(EVENT_STORE);
  return {
    app,
    http: request(app.getHttpServer()),
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
  await t.http.post('/v1/accounts').send({ accountId }).expect(201);
  await t.http.post(`/v1/accounts/${accountId}/deposits`).send({ depositId: 'dep-1', asset: 'ETH', amount: eth }).expect(201);
  await t.http.post(`/v1/accounts/${accountId}/two-factor-tokens`).send({ tokenId: 'tok-1', method: 'totp' }).expect(201);
  await t.http.post(`/v1/accounts/${accountId}/whitelisted-addresses`).send({ asset: 'ETH', address: ADDRESS_1 }).expect(201);
  t.clock.advance({ hours: 25 });
}
