/**
 * What a client sees when the event store fails for a moment (issue 15, part 3, at the HTTP edge): a transient
 * failure (SQLite busy past its timeout, here) is a 503 with Retry-After and the code STORE_UNAVAILABLE, not a 500
 * "internal error", so that the client knows to send the command again; sent again with the same Idempotency-Key once
 * the store is back, it is appended once.
 */
import { spawn } from 'node:child_process';
import { fundedAccount, startTestApp, type TestApp } from './support/test-app';

describe('a transient event-store failure at the HTTP edge', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Checkpoints off: the Merkle tree's job would append one of its own while the lock is held.
    t = await startTestApp({ LEDGER_CHECKPOINTS: 'off' });
  });
  afterAll(() => t.close());

  const onSqlite = process.env.LEDGER_E2E_STORE === 'postgres' ? it.skip : it;
  onSqlite('answers 503 with Retry-After while another process holds the write lock, then appends the retry once', async () => {
    await fundedAccount(t, 'busy');
    const path = t.config.eventStore.kind === 'sqlite' ? t.config.eventStore.path : '';
    const holder = spawn(process.execPath, ['-e', `
      const db = new (require(${JSON.stringify(require.resolve('better-sqlite3'))}))(${JSON.stringify(path)});
      db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 5500);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const released = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise((resolve) => holder.stdout!.once('data', resolve));
    const headBefore = await t.head();
    const deposit = { depositId: 'dep-busy', asset: 'ETH', amount: '1' };
    const refused = await t.service.post('/v1/accounts/busy/deposits').set('Idempotency-Key', 'busy-1').send(deposit);
    expect([refused.status, refused.body.code, refused.headers['retry-after']]).toEqual([503, 'STORE_UNAVAILABLE', '1']);
    expect(JSON.stringify(refused.body)).not.toMatch(/SQLITE|at .*\.js/);
    await released;
    const appended: string[] = [];
    for await (const event of t.store.readAll({ fromPosition: headBefore + 1n })) appended.push(`${event.streamId} ${event.type}`);
    expect(appended).toEqual([]);
    await t.service.post('/v1/accounts/busy/deposits').set('Idempotency-Key', 'busy-1').send(deposit).expect(201);
    await t.service.post('/v1/accounts/busy/deposits').set('Idempotency-Key', 'busy-1').send(deposit).expect(200);
    expect(await t.head()).toBe(headBefore + 1n);
  }, 20_000);
});
