import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountStream, event } from '@app/domain';
import { openSqliteEventStore, type EventStore } from '@app/event-store';
import type { Projection } from './projection';
import { MAX_BATCH_SIZE, ProjectionRunner, type ProjectionLogger } from './projection-runner';
import { ALL_PROJECTIONS, balancesProjection, reimbursementsProjection } from './read-models';
import type { ReadStore } from './read-store.port';
import { reconcile, replay } from './replay';
import { openSqliteReadStore } from './sqlite/sqlite-read-store';
import { ledgerHistory } from './testing/ledger-history';
import { appendAll, type Placed } from './testing/recorded';
import { snapshot } from './testing/snapshot';

const HISTORY = ledgerHistory({ accounts: 30, operations: 1_500, seed: 3 });

/** A projection that fails (as a crash would) at its n-th evolve call. */
function crashingAt(projection: Projection, n: number): Projection {
  let calls = 0;
  return {
    ...projection,
    evolve: (view, e) => {
      calls += 1;
      if (calls === n) throw new Error(`simulated crash in ${projection.name}`);
      projection.evolve(view, e);
    },
  };
}

function counting(projection: Projection): { projection: Projection; calls: () => number } {
  let calls = 0;
  return {
    projection: { ...projection, evolve: (view, e) => (calls++, projection.evolve(view, e)) },
    calls: () => calls,
  };
}

describe('ProjectionRunner on SQLite', () => {
  // The log is only read here (the live test has its own), so it is written once for every test.
  let logDir: string;
  let store: EventStore;
  let head: bigint;
  let dir: string;
  let readStores: ReadStore[];

  const openReadStore = (): ReadStore => {
    const rs = openSqliteReadStore({ path: join(dir, 'read.db') });
    readStores.push(rs);
    return rs;
  };
  const expected = async (projections: readonly Projection[] = ALL_PROJECTIONS, toPosition?: bigint) =>
    snapshot(await replay({ store, projections, toPosition }), projections);

  beforeAll(async () => {
    expect(HISTORY.length).toBeGreaterThan(1_500);
    logDir = mkdtempSync(join(tmpdir(), 'runner-log-'));
    store = openSqliteEventStore({ path: join(logDir, 'events.db') });
    head = (await appendAll(store, HISTORY))!;
  });
  afterAll(async () => {
    await store.close();
    rmSync(logDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'runner-'));
    readStores = [];
  });
  afterEach(async () => {
    await Promise.all(readStores.map((rs) => rs.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('catches every projection up to the head, in batches, and agrees with an in-memory replay', async () => {
    const rs = openReadStore();
    const progress: bigint[] = [];
    const result = await new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 100 }).catchUp({
      onProgress: (p) => progress.push(p.position),
    });
    expect(result).toMatchObject({ position: head });
    expect(result.batches).toBeGreaterThan(5);
    expect(progress).toEqual([...progress].sort((a, b) => (a < b ? -1 : 1)));
    expect(progress[progress.length - 1]).toBe(head);
    for (const { name, version } of ALL_PROJECTIONS) expect(await rs.checkpoint(name)).toEqual({ position: head, version });
    expect(await snapshot(rs, ALL_PROJECTIONS)).toEqual(await expected());
  });

  it('stops at toPosition', async () => {
    const rs = openReadStore();
    const toPosition = head / 2n;
    await new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 64 }).catchUp({ toPosition });
    expect(await rs.checkpoint('balances')).toEqual({ position: toPosition, version: 1 });
    expect(await snapshot(rs, ALL_PROJECTIONS)).toEqual(await expected(ALL_PROJECTIONS, toPosition));
  });

  it.each([
    ['balances', 1],
    ['balances', 57],
    ['balances', 400],
    ['loss-totals', 90],
    ['reimbursements', 30],
  ])('never applies an event twice or skips one when %s fails at its call %i and the runner restarts', async (name, n) => {
    const crashing = ALL_PROJECTIONS.map((projection) => (projection.name === name ? crashingAt(projection, n) : projection));
    const first = openReadStore();
    await expect(new ProjectionRunner({ store, readStore: first, projections: crashing, batchSize: 23 }).catchUp()).rejects.toThrow(/simulated crash/);
    // What the failed runner left is exactly the log up to its last commit.
    const left = await reconcile({ store, readStore: first, projections: ALL_PROJECTIONS });
    expect(left.projections.map((p) => p.differenceCount)).toEqual(ALL_PROJECTIONS.map(() => 0));
    expect((await first.checkpoint(name))?.position ?? 0n).toBeLessThan(head);

    // A new process on the same file carries on from the stored checkpoints.
    const restarted = openReadStore();
    await new ProjectionRunner({ store, readStore: restarted, projections: ALL_PROJECTIONS, batchSize: 23 }).catchUp();
    expect(await snapshot(restarted, ALL_PROJECTIONS)).toEqual(await expected());
  });

  it('never applies an event twice when the process dies right after a commit', async () => {
    const inner = openReadStore();
    let commits = 0;
    const dyingAfterCommit: ReadStore = Object.assign(Object.create(inner) as ReadStore, {
      commitMany: async (batch: Parameters<ReadStore['commitMany']>[0]) => {
        await inner.commitMany(batch);
        commits += 1;
        if (commits === 5) throw new Error('simulated crash after the commit');
      },
    });
    await expect(new ProjectionRunner({ store, readStore: dyingAfterCommit, projections: ALL_PROJECTIONS, batchSize: 50 }).catchUp()).rejects.toThrow(
      /after the commit/,
    );
    await new ProjectionRunner({ store, readStore: openReadStore(), projections: ALL_PROJECTIONS, batchSize: 50 }).catchUp();
    expect(await snapshot(inner, ALL_PROJECTIONS)).toEqual(await expected());
  });

  it('reads rows back from the store when its cache is too small to hold them, with the same result', async () => {
    const rs = openReadStore();
    await new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 40, maxCachedRows: 8 }).catchUp();
    expect(await snapshot(rs, ALL_PROJECTIONS)).toEqual(await expected());
  });

  it('ends two runners racing on one read store with the rows one runner makes', async () => {
    const conflicts: string[] = [];
    const logger: ProjectionLogger = { log: (message) => conflicts.push(message), error: () => undefined };
    const runners = [openReadStore(), openReadStore()].map(
      (readStore, i) => new ProjectionRunner({ store, readStore, projections: ALL_PROJECTIONS, batchSize: 17 + i * 13, logger }),
    );
    await Promise.all(runners.map((runner) => runner.catchUp()));
    expect(conflicts.some((message) => /checkpoint of projection/.test(message))).toBe(true);
    expect(await snapshot(readStores[0]!, ALL_PROJECTIONS)).toEqual(await expected());
  });

  it('catches a new projection up alone, leaving the others where they are', async () => {
    const rs = openReadStore();
    await new ProjectionRunner({ store, readStore: rs, projections: [balancesProjection] }).catchUp();
    const balances = counting(balancesProjection);
    const reimbursements = counting(reimbursementsProjection);
    await new ProjectionRunner({ store, readStore: rs, projections: [balances.projection, reimbursements.projection], batchSize: 100 }).catchUp();
    expect(balances.calls()).toBe(0);
    expect(reimbursements.calls()).toBeGreaterThan(0);
    expect(await snapshot(rs, [balancesProjection, reimbursementsProjection])).toEqual(await expected([balancesProjection, reimbursementsProjection]));
  });

  it('rebuilds from zero, and says so, a projection stored by another version', async () => {
    const rs = openReadStore();
    await new ProjectionRunner({ store, readStore: rs, projections: [balancesProjection] }).catchUp();
    const messages: string[] = [];
    const v2: Projection = { ...balancesProjection, version: 2 };
    await new ProjectionRunner({ store, readStore: rs, projections: [v2], logger: { log: (m) => messages.push(m), error: () => undefined } }).catchUp();
    expect(messages).toEqual([expect.stringMatching(/balances: stored version 1, this code is version 2: rebuilding from position 0/)]);
    expect(await rs.checkpoint('balances')).toEqual({ position: head, version: 2 });
    expect(await snapshot(rs, [v2])).toEqual(await expected([balancesProjection]));
  });

  it('reports lag in positions and in seconds behind, and none once caught up', async () => {
    let nowMs = 1_000_000;
    const runner = new ProjectionRunner({ store, readStore: openReadStore(), projections: [balancesProjection], now: () => nowMs });
    expect(await runner.status()).toEqual([{ name: 'balances', version: 1, position: null, headPosition: head, lagEvents: head, lagSeconds: 0 }]);
    nowMs += 4_500;
    expect((await runner.status())[0]).toMatchObject({ lagEvents: head, lagSeconds: 4.5 });
    await runner.catchUp();
    expect((await runner.status())[0]).toMatchObject({ position: head, lagEvents: 0n, lagSeconds: 0 });
    expect(await runner.waitUntil(head, 0)).toBe(true);
    expect(await runner.waitUntil(head + 1n, 10)).toBe(false);
  });

  it('follows the log live after start(): appends made later are folded, and waitUntil sees them', async () => {
    const live = openSqliteEventStore({ path: join(dir, 'live-events.db'), subscriptionPollIntervalMs: 20 });
    const history = HISTORY.slice(0, 600);
    const liveHead = (await appendAll(live, history))!;
    const rs = openReadStore();
    const runner = new ProjectionRunner({ store: live, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 50 });
    runner.start();
    try {
      expect(await runner.waitUntil(liveHead, 30_000)).toBe(true);
      const later: Placed[] = [
        ...HISTORY.slice(600, 900),
        { streamId: accountStream('late'), event: event('AccountOpened', { accountId: 'late', openedAt: '2022-03-01T00:00:00.000Z' }) },
        { streamId: accountStream('late'), event: event('FundsDeposited', { depositId: 'd', asset: 'ETH', amount: '1.25' }) },
        // Handled by no projection: the checkpoints still move past it.
        { streamId: accountStream('late'), event: event('TwoFactorEnrolled', { tokenId: 't', method: 'totp', enrolledAt: '2022-03-01T00:00:00.000Z' }) },
      ];
      const last = (await appendAll(live, later, history.length, 40))!;
      expect(await runner.waitUntil(last, 30_000)).toBe(true);
      expect((await rs.get('balances', 'balance/late/ETH'))?.doc).toMatchObject({ available: '1.25' });
      expect((await runner.status()).every((status) => status.lagEvents === 0n)).toBe(true);
    } finally {
      await runner.stop();
    }
    expect(await snapshot(rs, ALL_PROJECTIONS)).toEqual(await snapshot(await replay({ store: live, projections: ALL_PROJECTIONS }), ALL_PROJECTIONS));
    await live.close();
  });

  it('refuses nonsense options', () => {
    const readStore = openReadStore();
    expect(() => new ProjectionRunner({ store, readStore, projections: [] })).toThrow(RangeError);
    expect(() => new ProjectionRunner({ store, readStore, projections: [balancesProjection, balancesProjection] })).toThrow(/unique/);
    expect(() => new ProjectionRunner({ store, readStore, projections: ALL_PROJECTIONS, batchSize: 0 })).toThrow(RangeError);
    expect(() => new ProjectionRunner({ store, readStore, projections: ALL_PROJECTIONS, batchSize: MAX_BATCH_SIZE + 1 })).toThrow(RangeError);
  });
});
