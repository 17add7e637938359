/**
 * Fault injection (issue 15, part 3): the command handlers under concurrent deposits while the event store fails at
 * each step of an append (before it reaches the store, inside the commit, after the commit with the answer lost),
 * SQLite answers busy or disk full, PostgreSQL connections are terminated mid transaction, and the read store fails
 * half-way through a batch. Every failed command is retried with the same idempotency key, as a client does, until it
 * is answered; then every command is in the log exactly once, the hash chain verifies, and the read models equal a
 * replay (the CLI's own `verify` and `reconcile` on the SQLite files). Real SQLite files and the real PostgreSQL
 * server throughout: the faults come from SQLite and PostgreSQL themselves, except "before" and "after", which a
 * wrapper around the real store injects (the store cannot fail on its own at those two points).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { isTransientStoreFailure, openPostgresEventStore, openSqliteEventStore, verifyEventStore, type EventStore } from '@app/event-store';
import { describeWithPostgres, PostgresTestDatabase } from '@app/event-store/testing/postgres-test-database';
import { ALL_PROJECTIONS, openSqliteReadStore, ProjectionRunner } from '@app/projections';
import { ManualClock } from '../clock';
import { freshCommand, idempotentCommand, type Actor } from '../command-metadata';
import { Ledger } from '../ledger';

const service: Actor = { id: 'torture', role: 'service' };
const admin: Actor = { id: 'torture-admin', role: 'admin' };
const clock = new ManualClock(DateTime.fromISO('2022-01-16T00:00:00Z', { zone: 'utc' }));
const CLI_ENTRY = join(__dirname, '../../../../dist/apps/ledger-cli/src/main.js');
const ACCOUNTS = 4;
const quiet = { log: () => undefined, error: () => undefined };

/** Counts, for the report. */
const faultCounts = { injected: 0, commands: 0, retries: 0 };
/** Failures the HTTP edge would answer 500 to (not transient), other than the ones the wrapper injects. */
const nonTransient: string[] = [];

async function openAccounts(ledger: Ledger): Promise<void> {
  for (let i = 0; i < ACCOUNTS; i++) {
    await ledger.executeAccount(`f-${i}`, { type: 'OpenAccount', data: { accountId: `f-${i}` } }, freshCommand(service));
  }
}

interface Deposit {
  readonly accountId: string;
  readonly depositId: string;
}

function deposits(prefix: string, count: number): Deposit[] {
  return Array.from({ length: count }, (_, n) => ({ accountId: `f-${n % ACCOUNTS}`, depositId: `${prefix}-${n}` }));
}

/** Sends one deposit until it is answered, with the same idempotency key each time; returns how many tries failed. */
async function depositUntilAnswered(ledger: Ledger, deposit: Deposit): Promise<void> {
  const metadata = idempotentCommand(service, deposit.depositId, `hash-${deposit.depositId}`);
  faultCounts.commands += 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await ledger.executeAccount(deposit.accountId, { type: 'DepositFunds', data: { depositId: deposit.depositId, asset: 'ETH', amount: '1' } }, metadata);
      return;
    } catch (error) {
      faultCounts.retries += 1;
      if ((error as { name?: string }).name === 'DomainError') throw error;
      if (!isTransientStoreFailure(error) && !String(error).includes('injected:')) nonTransient.push(String(error));
      await new Promise((resolve) => setTimeout(resolve, 5 + attempt * 2));
    }
  }
  throw new Error(`deposit ${deposit.depositId} was never answered`);
}

/** Every deposit exactly once in the log (among those of the same test: ids share their prefix), and the hash chain intact. */
async function expectExactlyOnce(store: EventStore, sent: readonly Deposit[]): Promise<void> {
  const count = new Map<string, number>();
  for await (const event of store.readAll()) {
    if (event.type === 'FundsDeposited') {
      const { depositId } = event.data as { depositId: string };
      if (!sent.some((d) => d.depositId.split('-')[0] === depositId.split('-')[0])) continue;
      count.set(depositId, (count.get(depositId) ?? 0) + 1);
    }
  }
  const missing = sent.filter((d) => count.get(d.depositId) !== 1).map((d) => `${d.depositId} x${count.get(d.depositId) ?? 0}`);
  expect(missing).toEqual([]);
  expect(count.size).toBe(sent.length);
  const report = await verifyEventStore(store);
  expect(report.ok).toBe(true);
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out })));
}

/** Fails appends at a chosen point around the real store: before it is reached, or after it committed. */
function failingAround(store: EventStore, decide: () => 'before' | 'after' | null): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'append') {
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (...args: Parameters<EventStore['append']>) => {
        const fault = decide();
        if (fault === 'before') {
          faultCounts.injected += 1;
          throw new Error('injected: the append failed before reaching the store');
        }
        const result = await target.append(...args);
        if (fault === 'after') {
          faultCounts.injected += 1;
          throw new Error('injected: the append committed, then its answer was lost');
        }
        return result;
      };
    },
  });
}

describe('fault injection on SQLite', () => {
  let dir: string;
  let path: string;
  let store: EventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-faults-'));
    path = join(dir, 'ledger.db');
    store = openSqliteEventStore({ path });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every command exactly once when appends fail before the store or after the commit (answer lost)', async () => {
    let n = 0;
    const faults = ['before', 'after', null, null, 'after', null, 'before', null] as const;
    const ledger = new Ledger(failingAround(store, () => faults[n++ % faults.length] ?? null), clock);
    await openAccounts(new Ledger(store, clock));
    const sent = deposits('around', 120);
    await Promise.all(sent.map((d) => depositUntilAnswered(ledger, d)));
    await expectExactlyOnce(store, sent);
  });

  it('keeps every command exactly once when the disk fills up during commits, and recovers once there is room', async () => {
    const ledger = new Ledger(store, clock);
    await openAccounts(ledger);
    // A real SQLITE_FULL from SQLite itself: the file may not grow past the pages it has (PRAGMA max_page_count on
    // the store's own connection), so the commits that need a new page fail inside the transaction.
    const writer = (store as unknown as { writer: Database.Database }).writer;
    const pages = Number(writer.pragma('page_count', { simple: true }));
    writer.pragma(`max_page_count = ${pages + 2}`);
    const sent = deposits('full', 400);
    let full = 0;
    const firstTries = await Promise.allSettled(
      sent.map((d) => ledger.executeAccount(d.accountId, { type: 'DepositFunds', data: { depositId: d.depositId, asset: 'ETH', amount: '1' } }, idempotentCommand(service, d.depositId, `hash-${d.depositId}`))),
    );
    for (const outcome of firstTries) if (outcome.status === 'rejected' && /full/i.test(String(outcome.reason))) full += 1;
    expect(full).toBeGreaterThan(0);
    expect(firstTries.filter((o) => o.status === 'rejected' && !isTransientStoreFailure(o.reason)).map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    faultCounts.injected += full;
    writer.pragma('max_page_count = 1073741823');
    await Promise.all(sent.map((d) => depositUntilAnswered(ledger, d)));
    await expectExactlyOnce(store, sent);
  });

  it('keeps every command exactly once when another process holds the write lock past the busy timeout', async () => {
    const ledger = new Ledger(store, clock);
    await openAccounts(ledger);
    // Another process takes the write lock for 6 s (the store waits 5 s, then SQLite answers SQLITE_BUSY).
    const holder = spawn(process.execPath, ['-e', `
      const db = new (require(${JSON.stringify(require.resolve('better-sqlite3'))}))(${JSON.stringify(path)});
      db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 6000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const holderExited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise((resolve, reject) => {
      holder.stdout!.once('data', resolve);
      holder.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
    });
    const sent = deposits('busy', 40);
    const firstTries = await Promise.allSettled(
      sent.map((d) => ledger.executeAccount(d.accountId, { type: 'DepositFunds', data: { depositId: d.depositId, asset: 'ETH', amount: '1' } }, idempotentCommand(service, d.depositId, `hash-${d.depositId}`))),
    );
    const busy = firstTries.filter((o) => o.status === 'rejected' && /busy|locked/i.test(String(o.reason))).length;
    expect(busy).toBeGreaterThan(0);
    expect(firstTries.filter((o) => o.status === 'rejected' && !isTransientStoreFailure(o.reason)).map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    faultCounts.injected += busy;
    await holderExited;
    await Promise.all(sent.map((d) => depositUntilAnswered(ledger, d)));
    await expectExactlyOnce(store, sent);
  }, 30_000);

  it('keeps the read models equal to a replay when the read store fails half-way through batches', async () => {
    const ledger = new Ledger(store, clock);
    await openAccounts(ledger);
    const sent = deposits('read', 300);
    await Promise.all(sent.map((d) => depositUntilAnswered(ledger, d)));
    const readPath = join(dir, 'read-models.db');
    const readStore = openSqliteReadStore({ path: readPath });
    // A real failure inside the read store's transaction: once the log is past position 150, writing a checkpoint
    // is refused by a trigger, after the batch's rows (and maybe other projections' checkpoints) were written.
    const saboteur = new Database(readPath);
    saboteur.exec(`
      CREATE TRIGGER fault_insert BEFORE INSERT ON checkpoints WHEN NEW.position > 150 BEGIN SELECT RAISE(ABORT, 'injected: read store failure mid batch'); END;
      CREATE TRIGGER fault_update BEFORE UPDATE ON checkpoints WHEN NEW.position > 150 BEGIN SELECT RAISE(ABORT, 'injected: read store failure mid batch'); END;`);
    const runner = new ProjectionRunner({ store, readStore, projections: ALL_PROJECTIONS, batchSize: 100, logger: quiet });
    let failures = 0;
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await runner.catchUp();
        break;
      } catch {
        failures += 1;
        if (failures === 3) saboteur.exec('DROP TRIGGER fault_insert; DROP TRIGGER fault_update');
      }
    }
    saboteur.close();
    expect(failures).toBeGreaterThan(0);
    faultCounts.injected += failures;
    await readStore.close();
    await store.close();
    const env = { LEDGER_EVENT_STORE: `sqlite:${path}`, LEDGER_READ_STORE: `sqlite:${readPath}` };
    for (const check of ['verify', 'reconcile']) {
      const run = await cli([check, '--json'], env);
      expect([check, run.code, run.out.slice(-500)]).toEqual([check, 0, expect.anything()]);
    }
    store = openSqliteEventStore({ path });
  }, 60_000);
});

describeWithPostgres('fault injection on PostgreSQL')('fault injection on PostgreSQL', () => {
  const database = new PostgresTestDatabase<EventStore>('ledger_faults');

  /**
   * From a connection of the test's own, outside the store's pool, ends every other backend of this suite's database
   * (other users share the server: their databases are left alone) every `intervalMs`, until the returned stop().
   */
  async function terminateBackendsEvery(intervalMs: number): Promise<() => Promise<void>> {
    const client = await database.client();
    let terminating = true;
    const loop = (async () => {
      while (terminating) {
        const ended = await client.query<{ ended: boolean }>(
          'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
        faultCounts.injected += ended.rows.filter((row) => row.ended).length;
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
    return async () => {
      terminating = false;
      await loop;
      await client.end();
    };
  }

  beforeAll(() => database.create());
  afterAll(() => database.drop());

  it('keeps every command exactly once when its connections are terminated mid transaction, again and again', async () => {
    const store = database.track(await openPostgresEventStore({ connectionString: database.url }));
    const ledger = new Ledger(store, clock);
    await openAccounts(ledger);
    await ledger.executePlatform({ type: 'ChangeWithdrawalPolicy', data: { newAddressHoldHours: 0 } }, freshCommand(admin));
    const sent = deposits('pg', 300);
    const stop = await terminateBackendsEvery(15);
    const load = Promise.all(sent.map((d) => depositUntilAnswered(ledger, d)));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await stop();
    await load;
    await expectExactlyOnce(store, sent);
    // Each failure a client saw is one the HTTP edge answers 503 (retry), never a 500.
    expect(nonTransient).toEqual([]);
  }, 60_000);

  it('survives connections ended as soon as they open (their FATAL once reached a client with no error listener)', async () => {
    // Defect found here: pg-pool hands a new connection out without its own error listener, before the store adds
    // one; a FATAL "terminating connection" in the same packet as the connection's first ReadyForQuery was then an
    // unhandled 'error' event, which crashes the process. Terminating without pause makes that window likely.
    const store = database.track(await openPostgresEventStore({ connectionString: database.url }));
    const ledger = new Ledger(store, clock);
    await openAccounts(ledger).catch(() => undefined);
    const stop = await terminateBackendsEvery(0);
    const sent = deposits('opening', 200);
    const load = Promise.all(sent.map((d) => depositUntilAnswered(ledger, d)));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await stop();
    await load;
    await expectExactlyOnce(store, sent);
  }, 60_000);
});

afterAll(() => {
  // For the report (issue 15's note): how many faults were injected and how many commands survived them.
  console.log(`fault injection: ${faultCounts.injected} faults injected, ${faultCounts.commands} commands, ${faultCounts.retries} failed tries retried`);
});
