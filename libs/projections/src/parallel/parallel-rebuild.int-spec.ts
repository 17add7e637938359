import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore, type EventStore } from '@app/event-store';
import type { Projection } from '../projection';
import { ALL_PROJECTIONS, balancesProjection } from '../read-models';
import { rebuild } from '../replay';
import { openSqliteReadStore, type SqliteReadStore } from '../sqlite/sqlite-read-store';
import { ledgerHistory } from '../testing/ledger-history';
import { appendAll } from '../testing/recorded';
import { snapshot } from '../testing/snapshot';
import { planPartitions, sliceOf, SLICES_PER_WORKER } from './partition';
import { rebuildInParallel } from './parallel-rebuild';

/** Worker threads run JavaScript: the tests drive the sources on the main thread and the build's fold worker. */
const WORKER_SCRIPT = join(__dirname, '../../../../dist/libs/projections/src/parallel/fold-worker.js');
const HISTORY = ledgerHistory({ accounts: 40, operations: 2_500, seed: 11 });

describe('rebuildInParallel', () => {
  let dir: string;
  let store: EventStore;
  let head: bigint;
  const open: SqliteReadStore[] = [];
  const readStore = (name: string): SqliteReadStore => {
    const rs = openSqliteReadStore({ path: join(dir, `${name}.db`) });
    open.push(rs);
    return rs;
  };

  beforeAll(async () => {
    if (!existsSync(WORKER_SCRIPT)) throw new Error(`${WORKER_SCRIPT} is missing: run npm run build first (npm test does)`);
    dir = mkdtempSync(join(tmpdir(), 'parallel-rebuild-'));
    store = openSqliteEventStore({ path: join(dir, 'events.db') });
    head = (await appendAll(store, HISTORY))!;
  });

  afterAll(async () => {
    for (const rs of open) await rs.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each<[string, { workers: number; batchSize?: number; maxCachedRows?: number }]>([
    ['2 workers, one batch', { workers: 2 }],
    ['3 workers, batches of 700 events, caches of 16 rows (evicted rows read back from the store)', { workers: 3, batchSize: 700, maxCachedRows: 16 }],
    ['1 worker', { workers: 1, batchSize: 5_000 }],
  ])('writes exactly the rows and checkpoints of the single-threaded rebuild: %s', async (_name, settings) => {
    const single = readStore(`single-${settings.workers}`);
    const parallel = readStore(`parallel-${settings.workers}`);
    const expected = await rebuild({ store, readStore: single, projections: ALL_PROJECTIONS, batchSize: settings.batchSize });
    const progress: bigint[] = [];
    let rowReads = 0;
    const get = parallel.get.bind(parallel);
    parallel.get = (name, key) => {
      rowReads += 1;
      return get(name, key);
    };
    const result = await rebuildInParallel({
      store,
      readStore: parallel,
      projections: ALL_PROJECTIONS,
      workerScript: WORKER_SCRIPT,
      onProgress: (p) => progress.push(p.position),
      ...settings,
    });
    expect(result.position).toBe(head);
    expect(result.eventsRead).toBe(expected.eventsRead);
    if (settings.batchSize === 700) {
      expect(progress.length).toBeGreaterThan(3);
      expect(rowReads).toBeGreaterThan(0);
    } else {
      expect(rowReads).toBe(0);
    }
    expect(progress.at(-1)).toBe(head);
    const rows = await snapshot(parallel, ALL_PROJECTIONS);
    expect(rows).toEqual(await snapshot(single, ALL_PROJECTIONS));
    // The comparison covers real read models, not empty ones.
    expect(rows.balances!.length).toBeGreaterThan(40);
    for (const projection of ALL_PROJECTIONS) {
      expect(await parallel.checkpoint(projection.name)).toEqual(await single.checkpoint(projection.name));
    }
  });

  it('shares the work out evenly: heavy read models whole, the ones whose rows come from one stream cut into slices', () => {
    const plan = planPartitions(ALL_PROJECTIONS, 2);
    expect(plan).toHaveLength(2);
    const whole = plan.flatMap((worker) => worker.parts.filter((part) => part.slices === null).map((part) => part.projection));
    expect(whole.sort()).toEqual(ALL_PROJECTIONS.filter((p) => p.partitionedBy !== 'stream').map((p) => p.name).sort());
    // Every slice of a split read model is folded by exactly one worker.
    for (const projection of ALL_PROJECTIONS.filter((p) => p.partitionedBy === 'stream')) {
      const slices = plan.flatMap((worker) => worker.parts.filter((part) => part.projection === projection.name).flatMap((part) => part.slices!.indexes));
      expect(slices.sort((a, b) => a - b)).toEqual(Array.from({ length: 2 * SLICES_PER_WORKER }, (_, i) => i));
    }
    const [a, b] = plan.map((worker) => worker.load);
    expect(Math.abs(a! - b!)).toBeLessThanOrEqual(1);
    // One worker folds everything whole.
    expect(planPartitions(ALL_PROJECTIONS, 1)[0]!.parts.every((part) => part.slices === null)).toBe(true);
    // Streams spread over the slices.
    const counts = [0, 0, 0];
    for (let i = 0; i < 3_000; i += 1) counts[sliceOf(`account-${i}`, 3)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('refuses a projection its workers cannot load, and a worker count out of range, before touching the read store', async () => {
    const stranger: Projection = { ...balancesProjection, name: 'not-the-ledgers' };
    const rs = readStore('refused');
    await expect(rebuildInParallel({ store, readStore: rs, projections: [stranger], workers: 2, workerScript: WORKER_SCRIPT })).rejects.toThrow(/not one of the ledger's/);
    await expect(rebuildInParallel({ store, readStore: rs, projections: ALL_PROJECTIONS, workers: 0, workerScript: WORKER_SCRIPT })).rejects.toThrow(/workers must be/);
  });
});
