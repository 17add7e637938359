import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { formatAmount } from '@app/domain';
import { openSqliteEventStore } from '@app/event-store';
import { freshCommand, Ledger, ManualClock, systemClock, type Actor } from '@app/ledger';
import { replay, riskAlerts, riskAlertsProjection } from '@app/projections';
import { DateTime } from 'luxon';
import { get, post, PROCESS_API_KEYS, runServerToExit, startServer } from './support/server-process';

/**
 * The server as its own process, as `npm start` runs it: restarts, kill -9, graceful shutdown and start-up
 * configuration errors, on a real SQLite file.
 */
describe('the ledger server process', () => {
  let dir: string;
  let dbPath: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-proc-'));
    dbPath = join(dir, 'ledger.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function eventsOfType(type: string): Array<{ stream_id: string; data: string }> {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT stream_id, data FROM events WHERE type = ? ORDER BY position').all(type) as Array<{ stream_id: string; data: string }>;
    } finally {
      db.close();
    }
  }

  it('keeps everything across a graceful restart, and exits 0 on SIGTERM', async () => {
    const env = { LEDGER_EVENT_STORE: `sqlite:${dbPath}`, LEDGER_API_KEYS: PROCESS_API_KEYS, LEDGER_LOG_LEVEL: 'warn' };
    const first = await startServer(env);
    expect((await post(`${first.url}/v1/accounts`, { accountId: 'keep' })).status).toBe(201);
    expect((await post(`${first.url}/v1/accounts/keep/deposits`, { depositId: 'd1', asset: 'BTC', amount: '443.93' })).status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startServer(env);
    try {
      const balances = await get(`${second.url}/v1/accounts/keep/balances`);
      expect(balances.body.balances.BTC).toEqual({ available: '443.93', held: '0', withdrawn: '0', deposited: '443.93', reimbursed: '0' });
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('writes one access-log line per request, with its request id, method, path, status, time and key id (never the key)', async () => {
    const server = await startServer({ LEDGER_EVENT_STORE: `sqlite:${dbPath}`, LEDGER_API_KEYS: PROCESS_API_KEYS, LEDGER_LOG_LEVEL: 'log' });
    try {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${PROCESS_API_KEYS.split(',')[0]!.split('=')[1]}` };
      const opened = await fetch(`${server.url}/v1/accounts?x=1`, { method: 'POST', headers: { ...headers, 'x-request-id': 'trace-opened-1' }, body: '{"accountId":"logged"}' });
      expect(opened.status).toBe(201);
      expect(opened.headers.get('x-request-id')).toBe('trace-opened-1');
      const refused = await fetch(`${server.url}/v1/accounts/logged/balances`, { headers: { 'x-request-id': 'trace-refused-2', authorization: 'Bearer nope' } });
      expect(refused.status).toBe(401);
      const form = await fetch(`${server.url}/v1/accounts`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain', 'x-request-id': 'trace-form-3' }, body: 'a' });
      expect(form.status).toBe(415);
      // The log goes to a pipe, not a terminal: no colour codes in it.
      const lines = async () => server.output().split('\n').filter((line) => line.includes('[HTTP]'));
      // The start-up's health probes are logged too: wait for these three requests' lines.
      const ids = ['trace-opened-1', 'trace-refused-2', 'trace-form-3'];
      const logged = async () => (await lines()).filter((line) => ids.some((id) => line.includes(id))).length;
      for (let i = 0; i < 100 && (await logged()) < ids.length; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      const log = await lines();
      expect(log.find((line) => line.includes('trace-opened-1'))).toMatch(/\[req trace-opened-1\] POST \/v1\/accounts 201 \d+\.\dms key=k-[0-9a-f]{12}$/);
      expect(log.find((line) => line.includes('trace-refused-2'))).toMatch(/\[req trace-refused-2\] GET \/v1\/accounts\/logged\/balances 401 \d+\.\dms key=-$/);
      expect(log.find((line) => line.includes('trace-form-3'))).toMatch(/\[req trace-form-3\] POST \/v1\/accounts 415 /);
      expect(server.output()).not.toContain(PROCESS_API_KEYS.split(',')[0]!.split('=')[1]!);
      expect(server.output()).not.toContain('\x1b[');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('loses no acknowledged append when killed with SIGKILL mid-stream', async () => {
    const env = { LEDGER_EVENT_STORE: `sqlite:${dbPath}`, LEDGER_API_KEYS: PROCESS_API_KEYS, LEDGER_LOG_LEVEL: 'warn' };
    const server = await startServer(env);
    await post(`${server.url}/v1/accounts`, { accountId: 'crash' });
    const acknowledged: string[] = [];
    let stop = false;
    const writer = async (lane: number): Promise<void> => {
      for (let i = 0; !stop; i += 1) {
        const depositId = `d-${lane}-${i}`;
        try {
          const response = await post(`${server.url}/v1/accounts/crash/deposits`, { depositId, asset: 'ETH', amount: '0.001' });
          if (response.status === 201) acknowledged.push(depositId);
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const lanes = Array.from({ length: 8 }, (_, lane) => writer(lane));
    while (acknowledged.length < 300) await new Promise((resolve) => setTimeout(resolve, 5));
    server.child.kill('SIGKILL');
    await server.exited;
    stop = true;
    await Promise.all(lanes);

    const stored = new Set(eventsOfType('FundsDeposited').map((row) => JSON.parse(row.data).depositId as string));
    const lost = acknowledged.filter((depositId) => !stored.has(depositId));
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    expect(lost).toEqual([]);

    const restarted = await startServer(env);
    try {
      const balances = await get(`${restarted.url}/v1/accounts/crash/balances`);
      // Every stored deposit is 0.001 ETH: the balance is exactly their sum.
      expect(balances.body.balances.ETH.deposited).toBe(formatAmount('ETH', BigInt(stored.size) * 10n ** 15n));
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
  });

  it('finishes a platform-wide 2FA revocation killed half-way, without a duplicate', async () => {
    const accounts = 3_000;
    const store = openSqliteEventStore({ path: dbPath });
    const ledger = new Ledger(store, systemClock);
    const actor: Actor = { id: 'seed', role: 'service' };
    for (let start = 0; start < accounts; start += 100) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, offset) => {
          const accountId = `acct-${start + offset}`;
          await ledger.executeAccount(accountId, { type: 'OpenAccount', data: { accountId } }, freshCommand(actor));
          await ledger.executeAccount(accountId, { type: 'EnrolTwoFactor', data: { tokenId: 'tok-a', method: 'totp' } }, freshCommand(actor));
          await ledger.executeAccount(accountId, { type: 'EnrolTwoFactor', data: { tokenId: 'tok-b', method: 'sms' } }, freshCommand(actor));
        }),
      );
    }
    await store.close();

    const env = { LEDGER_EVENT_STORE: `sqlite:${dbPath}`, LEDGER_API_KEYS: PROCESS_API_KEYS, LEDGER_LOG_LEVEL: 'warn' };
    const server = await startServer(env);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await post(`${server.url}/v1/incidents`, { incidentId: 'inc-1', title: '2FA bypass' })).status).toBe(201);
    const revoke = await post(`${server.url}/v1/platform/two-factor-tokens/revoke-all`, { incidentId: 'inc-1', reason: '2FA bypass', revocationId: 'rev-1' });
    expect(revoke.status).toBe(201);
    let revokedBeforeKill = 0;
    while (revokedBeforeKill === 0) revokedBeforeKill = eventsOfType('TwoFactorTokenRevoked').length;
    server.child.kill('SIGKILL');
    await server.exited;
    revokedBeforeKill = eventsOfType('TwoFactorTokenRevoked').length;
    expect(revokedBeforeKill).toBeLessThan(accounts * 2);
    expect(eventsOfType('AllTwoFactorTokensRevocationCompleted')).toHaveLength(0);

    const restarted = await startServer(env);
    try {
      const deadline = Date.now() + 60_000;
      while (eventsOfType('AllTwoFactorTokensRevocationCompleted').length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const revoked = eventsOfType('TwoFactorTokenRevoked').map((row) => `${row.stream_id}/${JSON.parse(row.data).tokenId}`);
      expect(eventsOfType('AllTwoFactorTokensRevocationCompleted')).toHaveLength(1);
      expect(revoked).toHaveLength(accounts * 2);
      expect(new Set(revoked).size).toBe(accounts * 2);
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
    // Seeding 3,000 accounts and two server starts take about 4.5 s here, close to jest's default of 5 s; the wait
    // for the resumed job above allows 60 s.
  }, 90_000);

  it('raises every detected risk alert once and halts once when killed mid-catch-up, without a duplicate', async () => {
    // 1,500 accounts in groups of three, each group withdrawing to its own address: 500 shared-destination alerts
    // (and one platform-wide burst), every one halting by the policy. The first halts withdrawals; the others find
    // them halted and are recorded as skipped.
    const accounts = 1_500;
    const store = openSqliteEventStore({ path: dbPath });
    const clock = new ManualClock(DateTime.fromISO('2022-01-17T20:00:00Z', { zone: 'utc' }));
    const ledger = new Ledger(store, clock);
    const admin = freshCommand({ id: 'seed-admin', role: 'admin' });
    await ledger.executePlatform({ type: 'ChangeSecondFactorPolicy', data: { required: false, mfaThresholdUsd: null } }, admin);
    await ledger.executePlatform({ type: 'ChangeAutoHaltPolicy', data: { rules: ['shared-destination'], minSeverity: 'high' } }, freshCommand({ id: 'seed-admin', role: 'admin' }));
    const actor: Actor = { id: 'seed', role: 'service' };
    const address = (i: number): string => `0x${Math.floor(i / 3).toString(16).padStart(40, '0')}`;
    const batches = async (work: (i: number) => Promise<void>): Promise<void> => {
      for (let start = 0; start < accounts; start += 100) await Promise.all(Array.from({ length: 100 }, (_, offset) => work(start + offset)));
    };
    await batches(async (i) => {
      const accountId = `acct-${i}`;
      await ledger.executeAccount(accountId, { type: 'OpenAccount', data: { accountId } }, freshCommand(actor));
      await ledger.executeAccount(accountId, { type: 'DepositFunds', data: { depositId: 'd1', asset: 'ETH', amount: '5' as never } }, freshCommand(actor));
      await ledger.executeAccount(accountId, { type: 'EnrolTwoFactor', data: { tokenId: 't1', method: 'totp' } }, freshCommand(actor));
      await ledger.executeAccount(accountId, { type: 'WhitelistAddress', data: { asset: 'ETH', address: address(i) } }, freshCommand(actor));
    });
    clock.advance({ hours: 25 });
    await batches(async (i) => {
      const data = { withdrawalId: 'w1', asset: 'ETH' as const, amount: '1' as never, address: address(i), twoFactorTokenId: 't1' };
      await ledger.executeAccount(`acct-${i}`, { type: 'RequestWithdrawal', data }, freshCommand(actor));
    });
    const detected = (await riskAlerts(await replay({ store, projections: [riskAlertsProjection] }), { limit: 1_000 })).items;
    await store.close();
    const halting = detected.filter((alert) => alert.rule === 'shared-destination').map((alert) => alert.alertId);
    expect(halting).toHaveLength(accounts / 3);

    const env = { LEDGER_EVENT_STORE: `sqlite:${dbPath}`, LEDGER_API_KEYS: PROCESS_API_KEYS, LEDGER_LOG_LEVEL: 'warn', LEDGER_RISK_MONITOR: 'on' };
    const server = await startServer(env);
    while (eventsOfType('RiskAlertRaised').length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    server.child.kill('SIGKILL');
    await server.exited;
    const raisedBeforeKill = eventsOfType('RiskAlertRaised').length;
    const decidedBeforeKill = eventsOfType('RiskHaltSkipped').length + eventsOfType('WithdrawalsHalted').length;
    expect(raisedBeforeKill + decidedBeforeKill).toBeLessThan(detected.length + halting.length);

    const restarted = await startServer(env);
    try {
      const deadline = Date.now() + 60_000;
      const decided = (): number => eventsOfType('RiskHaltSkipped').length + eventsOfType('WithdrawalsHalted').length;
      while ((eventsOfType('RiskAlertRaised').length < detected.length || decided() < halting.length) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // one more pass of the job: it must add nothing
      const raised = eventsOfType('RiskAlertRaised').map((row) => JSON.parse(row.data).alertId as string);
      expect(raised.sort()).toEqual(detected.map((alert) => alert.alertId).sort());
      const halts = eventsOfType('WithdrawalsHalted').map((row) => JSON.parse(row.data).alertId as string);
      const skipped = eventsOfType('RiskHaltSkipped').map((row) => JSON.parse(row.data).alertId as string);
      expect(halts).toHaveLength(1);
      expect([...halts, ...skipped].sort()).toEqual([...halting].sort());
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
  }, 90_000);

  it('generates one key per role on first start, shows them once, keeps only hashes, and accepts them after a restart', async () => {
    const env = { LEDGER_EVENT_STORE: `sqlite:${dbPath}` };
    const first = await startServer(env);
    const printed = Object.fromEntries([...first.output().matchAll(/export LEDGER_KEY_([A-Z]+)=(\S+)/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    expect(Object.keys(printed).sort()).toEqual(['admin', 'auditor', 'finance', 'service']);
    expect((await post(`${first.url}/v1/accounts`, { accountId: 'keyed' }, printed.service)).status).toBe(201);
    expect((await post(`${first.url}/v1/accounts`, { accountId: 'keyed2' }, printed.finance)).status).toBe(403);
    first.child.kill('SIGTERM');
    await first.exited;

    const keyFile = join(dir, 'api-keys.json');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const stored = readFileSync(keyFile, 'utf8');
    for (const key of Object.values(printed)) expect(stored).not.toContain(key.split('.')[1]);
    // The server's own output names key ids at most, never a key, apart from the one-time listing.
    expect(first.output().split(printed.service!).length).toBe(2);

    const second = await startServer(env);
    try {
      expect(second.output()).not.toContain('export LEDGER_KEY_');
      // Whoever lost the printed keys is told how to get a new one.
      for (let i = 0; i < 50 && !second.output().includes('keys create'); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(second.output()).toContain(`API keys: the generated keys of ${dir}/api-keys.json (printed once, at the first start). Lost one? \`npm run ledger -- keys create --role <role>\``);
      expect((await get(`${second.url}/v1/accounts/keyed/balances`, printed.service)).status).toBe(200);
      expect((await get(`${second.url}/v1/accounts/keyed/balances`, 'lk_000000000000.not-the-right-secret-at-all')).status).toBe(401);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LEDGER_EVENT_STORE: 'mysql://nope' }, 'LEDGER_EVENT_STORE'],
    [{ LEDGER_EVENT_STORE: 'sqlite::memory:' }, 'LEDGER_EVENT_STORE'],
    [{ LEDGER_API_KEYS: 'root=abc' }, 'LEDGER_API_KEYS'],
    [{ LEDGER_GENERATED_KEYS: 'logs' }, 'LEDGER_GENERATED_KEYS'],
  ])('refuses to start with %p and names %s', async (env, variable) => {
    const { code, output } = await runServerToExit({ LEDGER_EVENT_STORE: `sqlite:${dbPath}`, ...env });
    expect(code).toBe(1);
    expect(output).toContain(variable);
    expect(output).not.toMatch(/\n\s+at /);
  });

  it.each([
    [{ LEDGER_DATA_DIR: '/sys' }, 'LEDGER_DATA_DIR names the folder /sys, which this process \\(user id \\d+\\) cannot write \\((EACCES|EPERM|EROFS)\\)'],
    [{ LEDGER_DATA_DIR: '/sys/ledger-data' }, 'LEDGER_DATA_DIR names the folder /sys/ledger-data, which cannot be created'],
    // Node's recursive mkdir spins for ever under /proc: this must answer, not hang until the 15 s kill.
    [{ LEDGER_DATA_DIR: '/proc/ledger/data' }, 'LEDGER_DATA_DIR names the folder /proc/ledger/data, which cannot be created .*/proc is a kernel file system'],
    [{ LEDGER_EVENT_STORE: 'postgres://ledger@127.0.0.1:1/ledger' }, 'LEDGER_EVENT_STORE names a store that cannot be opened or reached: connect ECONNREFUSED 127.0.0.1:1'],
    [{ LEDGER_EVENT_STORE: 'esdb://127.0.0.1:1?tls=false' }, 'LEDGER_EVENT_STORE names a store that cannot be opened or reached: .*ECONNREFUSED'],
  ])('refuses to start with %p in one line, exit 1: %s', async (env, expected) => {
    const { code, output } = await runServerToExit({ LEDGER_EVENT_STORE: `sqlite:${dbPath}`, LEDGER_DATA_DIR: dir, LEDGER_API_KEYS: PROCESS_API_KEYS, ...env });
    expect(code).toBe(1);
    expect(output).toMatch(new RegExp(`^invalid configuration: ${expected}`));
    expect(output.trim().split('\n')).toHaveLength(1);
  });
});
