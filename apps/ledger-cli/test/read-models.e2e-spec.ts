import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountBalances, ALL_PROJECTIONS, lossTotalsProjection, MAX_BATCH_SIZE, openSqliteReadStore } from '@app/projections';
import { requireCliBuild, runCli, startCli } from './support/cli-process';
import { depositTo, SEEDED_EVENTS, seedLedger, storedCheckpoints, withSqliteFile } from './support/ledger-files';

/** Each test runs the CLI a few times, about half a second each. */
jest.setTimeout(30_000);

const PROJECTION_NAMES = ALL_PROJECTIONS.map((projection) => projection.name);

async function balancesOf(readStorePath: string, accountId: string) {
  const readStore = openSqliteReadStore({ path: readStorePath });
  try {
    return await accountBalances(readStore, accountId);
  } finally {
    await readStore.close();
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('ledger project, rebuild and reconcile (the built CLI)', () => {
  let dir: string;
  let dbPath: string;
  /** Where the read models go when LEDGER_READ_STORE is unset: beside the SQLite event store. */
  let readStorePath: string;
  let env: Record<string, string>;

  beforeAll(() => requireCliBuild());

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-cli-read-models-'));
    dbPath = join(dir, 'ledger.db');
    readStorePath = join(dir, 'read-models.db');
    env = { LEDGER_EVENT_STORE: `sqlite:${dbPath}` };
    await seedLedger(dbPath);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rebuild: keeps the loss totals\' as-of snapshots every LEDGER_ASOF_SNAPSHOT_EVERY events, as the projector does', async () => {
    const snapshotPositions = async (): Promise<bigint[]> => {
      const readStore = openSqliteReadStore({ path: readStorePath });
      try {
        return (await readStore.snapshots(lossTotalsProjection.name)).map((mark) => mark.position).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      } finally {
        await readStore.close();
      }
    };
    expect((await runCli(['rebuild'], env)).code).toBe(0);
    // 5 events, far fewer than the default 10,000: no snapshot before the log's end.
    expect((await snapshotPositions()).filter((position) => position < BigInt(SEEDED_EVENTS))).toEqual([]);
    expect((await runCli(['rebuild'], { ...env, LEDGER_ASOF_SNAPSHOT_EVERY: '2' })).code).toBe(0);
    expect((await snapshotPositions()).filter((position) => position < BigInt(SEEDED_EVENTS))).toEqual([2n, 4n]);
  });

  it('rebuild: folds the log into every read model beside the event store, with rate, time and peak memory', async () => {
    const run = await runCli(['rebuild', '--json'], env);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ projections: PROJECTION_NAMES, position: String(SEEDED_EVENTS), eventsFolded: SEEDED_EVENTS });
    expect(summary.eventsPerSecond).toBeGreaterThan(0);
    expect(summary.elapsedMs).toBeGreaterThanOrEqual(0);
    // A Node process holds tens of MB at least; the figure is MB, not KiB or bytes.
    expect(summary.peakRssMb).toBeGreaterThan(10);
    expect(summary.peakRssMb).toBeLessThan(4_096);
    expect(await balancesOf(readStorePath, 'alice')).toEqual({
      accountId: 'alice',
      balances: {
        BTC: { available: '443.93', held: '0', withdrawn: '0', deposited: '443.93', reimbursed: '0' },
        ETH: { available: '4836.26', held: '0', withdrawn: '0', deposited: '4836.26', reimbursed: '0' },
      },
    });
    expect(storedCheckpoints(readStorePath)).toEqual(new Map(PROJECTION_NAMES.map((name) => [name, SEEDED_EVENTS])));

    // Without --json: the same as prose, and rebuilding again gives the same read models.
    const human = await runCli(['rebuild'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^rebuild: 6 read models rebuilt to position 5 \(5 events folded in 1 batches\)\n {2}[0-9.]+ s, [0-9]+ events\/s, peak RSS [0-9.]+ MB\n$/);
    expect((await balancesOf(readStorePath, 'bob'))?.balances.USDC?.available).toBe('66200');
  });

  it('rebuild --workers: folds on worker threads into the same read models, and refuses a thread count out of range', async () => {
    const run = await runCli(['rebuild', '--workers', '2', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ projections: PROJECTION_NAMES, workers: 2, position: String(SEEDED_EVENTS), eventsFolded: SEEDED_EVENTS });
    expect((await balancesOf(readStorePath, 'alice'))?.balances.ETH).toEqual({ available: '4836.26', held: '0', withdrawn: '0', deposited: '4836.26', reimbursed: '0' });
    expect(storedCheckpoints(readStorePath)).toEqual(new Map(PROJECTION_NAMES.map((name) => [name, SEEDED_EVENTS])));
    const refused = await runCli(['rebuild', '--workers', '0'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--workers.*from 1 to 16/);
  });

  it('rebuild --projection: resets and rebuilds that read model only', async () => {
    const run = await runCli(['rebuild', '--projection', 'balances', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ projections: ['balances'], position: String(SEEDED_EVENTS) });
    expect(storedCheckpoints(readStorePath)).toEqual(new Map([['balances', SEEDED_EVENTS]]));
  });

  it('rebuild and reconcile: an unknown projection is a usage error (exit 2) listing the names, and creates nothing', async () => {
    const runs = await Promise.all([runCli(['rebuild', '--projection', 'balance'], env), runCli(['reconcile', '--projection', 'x'], env)]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`must be one of ${PROJECTION_NAMES.join(', ')}`);
      expect(run.stderr).toMatch(/Usage: ledger (rebuild|reconcile)/);
    }
    expect(existsSync(readStorePath)).toBe(false);
  });

  it('rebuild: a batch size that is not a whole number from 1 to the maximum is a usage error (exit 2), creating nothing', async () => {
    const runs = await Promise.all(['0', '2.5', 'many', String(MAX_BATCH_SIZE + 1)].map((size) => runCli(['rebuild', '--batch-size', size], env)));
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`must be a whole number of events from 1 to ${MAX_BATCH_SIZE}`);
    }
    expect(existsSync(readStorePath)).toBe(false);
  });

  it('reconcile: read models as the runner left them exit 0, every one compared at its checkpoint', async () => {
    expect((await runCli(['project', '--once'], env)).code).toBe(0);
    const [json, human] = await Promise.all([runCli(['reconcile', '--json'], env), runCli(['reconcile'], env)]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: true, differenceCount: 0, headPosition: String(SEEDED_EVENTS) });
    expect(report.projections.map((p: { name: string; checkpoint: string; differenceCount: number }) => [p.name, p.checkpoint, p.differenceCount])).toEqual(
      PROJECTION_NAMES.map((name) => [name, String(SEEDED_EVENTS), 0]),
    );
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('reconcile: balances: OK: 5 rows at checkpoint 5\n');
    expect(human.stdout).toContain('reconcile: OK: no difference in 6 read models, each compared with a replay of the log at its checkpoint (log head 5)');
  });

  it('reconcile: a row edited in the read store exits 1 naming the projection and the key, with both rows', async () => {
    expect((await runCli(['rebuild'], env)).code).toBe(0);
    withSqliteFile(readStorePath, (db) => {
      const row = db.prepare<[], { doc: string }>("SELECT doc FROM rows WHERE projection = 'balances' AND key = 'balance/alice/ETH'").get()!;
      expect(row.doc).toContain('"available":"4836.26"');
      db.prepare("UPDATE rows SET doc = ? WHERE projection = 'balances' AND key = 'balance/alice/ETH'").run(row.doc.replace('"available":"4836.26"', '"available":"4836.27"'));
    });
    const [json, human] = await Promise.all([runCli(['reconcile', '--json'], env), runCli(['reconcile'], env)]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: false, differenceCount: 1 });
    const balances = report.projections.find((p: { name: string }) => p.name === 'balances');
    expect(balances).toMatchObject({ checkpoint: '5', differenceCount: 1 });
    expect(balances.differences).toEqual([
      expect.objectContaining({
        key: 'balance/alice/ETH',
        stored: expect.objectContaining({ doc: expect.objectContaining({ available: '4836.27' }) }),
        replayed: expect.objectContaining({ doc: expect.objectContaining({ available: '4836.26' }) }),
      }),
    ]);
    for (const other of report.projections.filter((p: { name: string }) => p.name !== 'balances')) expect(other.differenceCount).toBe(0);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('reconcile: balances: 1 difference in 5 rows at checkpoint 5\n  balance/alice/ETH: differs\n');
    expect(human.stdout).toMatch(/ {4}stored: {3}\{"doc":\{[^\n]*"available":"4836.27"/);
    expect(human.stdout).toContain('reconcile: DRIFT: 1 difference in 1 of 6 read models (log head 5)');
  });

  it('reconcile: exits 2 naming LEDGER_READ_STORE when there are no read models to compare, and creates none', async () => {
    const elsewhere = join(dir, 'typo', 'read.db');
    const run = await runCli(['reconcile', '--json'], { ...env, LEDGER_READ_STORE: `sqlite:${elsewhere}` });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`LEDGER_READ_STORE names ${elsewhere}, which does not exist`);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { kind: 'config', exitCode: 2 } });
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('project --once: catches up from the stored checkpoints to the head and exits 0, on LEDGER_READ_STORE', async () => {
    const elsewhere = join(dir, 'models', 'read.db');
    const withReadStore = { ...env, LEDGER_READ_STORE: `sqlite:${elsewhere}` };
    const first = await runCli(['project', '--once', '--json'], withReadStore);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ startPosition: '0', position: '5', headPosition: '5', positionsFolded: '5', stoppedBy: null });
    expect(existsSync(readStorePath)).toBe(false);

    await depositTo(dbPath, 'alice', 'd4', 'ETH', '0.74');
    const second = await runCli(['project', '--once'], withReadStore);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^project: caught up at position 6 \(log head 6\); 1 positions folded from 5 in [0-9.]+ s\n$/);
    expect((await balancesOf(elsewhere, 'alice'))?.balances.ETH?.available).toBe('4837');
    expect((await runCli(['reconcile'], withReadStore)).code).toBe(0);
  });

  it('project: follows the log live until SIGTERM, then commits, closes and exits 0', async () => {
    let stderr = '';
    const projector = startCli(['project'], env, { onStderr: (text) => (stderr = text) });
    await until(() => stderr.includes('project: caught up at position 5; following the log until SIGINT or SIGTERM'), 10_000);
    await depositTo(dbPath, 'bob', 'd5', 'USDC', '0.5');
    await until(() => storedCheckpoints(readStorePath).get('balances') === SEEDED_EVENTS + 1, 10_000);
    process.kill(projector.pid, 'SIGTERM');
    const run = await projector.exited;
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^project: stopped by SIGTERM at position 6 \(log head 6\); 6 positions folded from 0 in [0-9.]+ s\n$/);
    expect(run.stderr).toContain('SIGTERM received');
    expect((await balancesOf(readStorePath, 'bob'))?.balances.USDC?.available).toBe('66200.5');
    // Closed cleanly: SQLite removes the write-ahead logs when the last connection closes, and only then.
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
    expect(existsSync(`${readStorePath}-wal`)).toBe(false);
  });
});
