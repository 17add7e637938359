import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountStream, toIso } from '@app/domain';
import { openSqliteEventStore, type EventStore } from '@app/event-store';
import { describeWithPostgres, PostgresTestDatabase } from '@app/event-store/testing/postgres-test-database';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { InMemoryReadStore } from '../in-memory-read-store';
import { openPostgresReadStore } from '../postgres/postgres-read-store';
import type { Projection } from '../projection';
import { ProjectionRunner } from '../projection-runner';
import { accountBalances } from '../queries';
import { ALL_PROJECTIONS, balancesProjection, lossTotalsProjection } from '../read-models';
import { snapshotName, type ReadStore } from '../read-store.port';
import { positionAsOf, rebuild, replay } from '../replay';
import { openSqliteReadStore } from '../sqlite/sqlite-read-store';
import { ledgerHistory } from '../testing/ledger-history';
import { appendAll, type Placed } from '../testing/recorded';
import { snapshot } from '../testing/snapshot';
import { AsOfReads } from './as-of-reads';

jest.setTimeout(120_000);

const START_MS = Date.UTC(2022, 0, 10);
const ACCOUNTS = 20;
/** Small, so that a short history holds many snapshots; the default is 10,000. */
const SNAPSHOT_EVERY = 40;

/**
 * A history whose recordedAt does not always grow with the position: now and then an event is recorded up to a
 * minute before the one ahead of it (a clock stepped back), so that "the log as of an instant" stops at the first
 * later event and a snapshot's high-water is not simply its last event's instant.
 */
function jitteredHistory(): Placed[] {
  let state = 99;
  const next = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  return ledgerHistory({ accounts: ACCOUNTS, operations: 900, seed: 11 }).map((placed, index) => {
    const skewMs = next() < 0.08 ? -Math.floor(next() * 60_000) : 0;
    return { ...placed, recordedAt: toIso(DateTime.fromMillis(START_MS + index * 1_000 + skewMs, { zone: 'utc' })) };
  });
}

const HISTORY = jitteredHistory();
const accountIdOf = (n: number): string => `acc-${String(n).padStart(5, '0')}`;

async function rowsOf(rs: ReadStore, projections: readonly Projection[]): Promise<unknown> {
  return snapshot(rs, projections);
}

async function replayed(store: EventStore, projections: readonly Projection[], position: bigint): Promise<unknown> {
  const rs = await replay({ store, projections, toPosition: position });
  try {
    return await rowsOf(rs, projections);
  } finally {
    await rs.close();
  }
}

/** The checks every read store kind must pass, on a read store that a runner with snapshots has caught up. */
function describeAsOf(kind: string, openReadStore: () => Promise<ReadStore>): void {
  describe(`as-of reads on ${kind}`, () => {
    let dir: string;
    let store: EventStore;
    let head: bigint;
    let rs: ReadStore;
    let asOf: AsOfReads;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'as-of-'));
      store = openSqliteEventStore({ path: join(dir, 'events.db') });
      head = (await appendAll(store, HISTORY))!;
      rs = await openReadStore();
      const runner = new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 97, asOfSnapshotEvery: SNAPSHOT_EVERY });
      await runner.catchUp();
      asOf = AsOfReads.of(runner);
    });
    afterAll(async () => {
      await rs?.close();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps loss-totals snapshots every SNAPSHOT_EVERY events, in the middle of batches too', async () => {
      const marks = await rs.snapshots(lossTotalsProjection.name);
      expect(marks.length).toBeGreaterThan(20);
      expect(marks.every((mark) => mark.version === lossTotalsProjection.version)).toBe(true);
      // Batches end at multiples of 97 events read; snapshots fall between them.
      expect(marks.some((mark) => mark.position % 97n !== 0n)).toBe(true);
      expect(await rs.snapshots(balancesProjection.name)).toEqual([]);
    });

    it('answers loss totals as of any position exactly as a full replay does, from the snapshot before it', async () => {
      const first = (await rs.snapshots(lossTotalsProjection.name))[0]!.position;
      await fc.assert(
        fc.asyncProperty(fc.bigInt({ min: 0n, max: head }), async (position) => {
          const { readStore, folds } = await asOf.readModelsAtWithFolds(position, [lossTotalsProjection]);
          try {
            expect(await rowsOf(readStore, [lossTotalsProjection])).toEqual(await replayed(store, [lossTotalsProjection], position));
          } finally {
            await readStore.close();
          }
          expect(folds).toHaveLength(1);
          expect(folds[0]!.from).toBe(position >= first ? 'snapshot' : 'log');
          expect(folds[0]!.startPosition <= position).toBe(true);
        }),
        { numRuns: 40, examples: [[0n], [1n], [first], [head]] },
      );
    });

    it("answers an account's balances as of any position from its own stream, as a full replay does", async () => {
      await fc.assert(
        fc.asyncProperty(fc.bigInt({ min: 0n, max: head }), fc.integer({ min: 0, max: ACCOUNTS + 1 }), async (position, n) => {
          // ledgerHistory names its accounts acc-00000, acc-00001, ...; from ACCOUNTS on, none exists.
          const accountId = accountIdOf(n);
          const { readStore, folds } = await asOf.readModelsAtWithFolds(position, [balancesProjection], { stream: accountStream(accountId) });
          const full = await replay({ store, projections: [balancesProjection], toPosition: position });
          try {
            expect(await accountBalances(readStore, accountId)).toEqual(await accountBalances(full, accountId));
          } finally {
            await readStore.close();
            await full.close();
          }
          expect(folds[0]!.from).toBe('stream');
        }),
        { numRuns: 40 },
      );
    });

    it('finds the position as of any instant exactly as the scan from the start does', async () => {
      const lastMs = START_MS + HISTORY.length * 1_000;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: START_MS - 120_000, max: lastMs + 120_000 }), async (ms) => {
          const instant = DateTime.fromMillis(ms, { zone: 'utc' });
          expect(await asOf.positionAsOf(instant)).toBe(await positionAsOf(store, instant));
        }),
        { numRuns: 150 },
      );
    });

    it('finds ledger accounts in the history (the balance property above is not vacuous)', async () => {
      const full = await replay({ store, projections: [balancesProjection] });
      expect(await accountBalances(full, accountIdOf(3))).not.toBeNull();
      expect(await accountBalances(full, accountIdOf(ACCOUNTS))).toBeNull();
      await full.close();
    });
  });
}

describe('as-of reads', () => {
  describeAsOf('an in-memory read store', async () => new InMemoryReadStore());

  describe('on SQLite', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'as-of-sqlite-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    describeAsOf('a SQLite read store', async () => openSqliteReadStore({ path: join(dir, 'read.db') }));

    it('keeps its snapshots across a restart, ignores those of another version, and rebuild makes them', async () => {
      const logDir = mkdtempSync(join(tmpdir(), 'as-of-restart-'));
      const store = openSqliteEventStore({ path: join(logDir, 'events.db') });
      const path = join(logDir, 'read.db');
      try {
        const head = (await appendAll(store, HISTORY))!;
        const middle = head / 2n;

        // A ledger whose read models were built with no snapshots gets one at its checkpoint when a runner starts.
        const plain = openSqliteReadStore({ path });
        await new ProjectionRunner({ store, readStore: plain, projections: ALL_PROJECTIONS, asOfSnapshotEvery: null }).catchUp({ toPosition: middle });
        expect(await plain.snapshots(lossTotalsProjection.name)).toEqual([]);
        await new ProjectionRunner({ store, readStore: plain, projections: ALL_PROJECTIONS, asOfSnapshotEvery: SNAPSHOT_EVERY }).catchUp();
        const marks = await plain.snapshots(lossTotalsProjection.name);
        expect(marks[0]!.position).toBe(middle);
        await plain.close();

        // After a restart the snapshots are still there and still answer.
        const reopened = openSqliteReadStore({ path });
        const asOf = AsOfReads.of(new ProjectionRunner({ store, readStore: reopened, projections: ALL_PROJECTIONS }));
        expect(await reopened.snapshots(lossTotalsProjection.name)).toEqual(marks);
        const at = middle + 17n;
        const { readStore, folds } = await asOf.readModelsAtWithFolds(at, [lossTotalsProjection]);
        expect(folds[0]).toEqual({ projection: lossTotalsProjection.name, from: 'snapshot', startPosition: middle });
        expect(await rowsOf(readStore, [lossTotalsProjection])).toEqual(await replayed(store, [lossTotalsProjection], at));
        await readStore.close();

        // Another version never answers from these snapshots, and its runner replaces them with its own.
        const v99: Projection = { ...lossTotalsProjection, version: 99 };
        const asOf99 = AsOfReads.of(new ProjectionRunner({ store, readStore: reopened, projections: [v99] }));
        const before = await asOf99.readModelsAtWithFolds(at, [v99]);
        expect(before.folds[0]!.from).toBe('log');
        expect(await rowsOf(before.readStore, [v99])).toEqual(await replayed(store, [lossTotalsProjection], at));
        await before.readStore.close();
        await new ProjectionRunner({ store, readStore: reopened, projections: [v99], asOfSnapshotEvery: SNAPSHOT_EVERY }).catchUp();
        const marks99 = await reopened.snapshots(v99.name);
        expect(marks99.length).toBeGreaterThan(0);
        expect(marks99.every((mark) => mark.version === 99)).toBe(true);
        for (const old of marks.filter((mark) => !marks99.some((mark99) => mark99.position === mark.position))) {
          expect(await reopened.list(snapshotName(v99.name, old.position), { limit: 1 })).toEqual([]);
        }
        await reopened.close();

        // A rebuild (side by side) takes them as it folds.
        const rebuilt = openSqliteReadStore({ path: join(logDir, 'rebuilt.db') });
        await rebuild({ store, readStore: rebuilt, projections: ALL_PROJECTIONS, asOfSnapshotEvery: SNAPSHOT_EVERY });
        const rebuiltMarks = await rebuilt.snapshots(lossTotalsProjection.name);
        expect(rebuiltMarks.length).toBeGreaterThan(20);
        const asOfRebuilt = AsOfReads.of(new ProjectionRunner({ store, readStore: rebuilt, projections: ALL_PROJECTIONS }));
        for (const position of [1n, middle, head - 3n, head]) {
          const answer = await asOfRebuilt.readModelsAtWithFolds(position, [lossTotalsProjection]);
          expect(await rowsOf(answer.readStore, [lossTotalsProjection])).toEqual(await replayed(store, [lossTotalsProjection], position));
          await answer.readStore.close();
        }
        // A rebuild leaves the high-waters to the reads by instant, which work them out as far as they need and keep them.
        expect(rebuiltMarks.every((mark) => mark.recordedAtHighWaterMs === null)).toBe(true);
        const middleMs = START_MS + Number(middle) * 1_000;
        for (const ms of [middleMs, START_MS - 1, middleMs + 12_345, START_MS + HISTORY.length * 1_000, middleMs - 40_000]) {
          const instant = DateTime.fromMillis(ms, { zone: 'utc' });
          expect(await asOfRebuilt.positionAsOf(instant)).toBe(await positionAsOf(store, instant));
        }
        const filled = await rebuilt.snapshots(lossTotalsProjection.name);
        expect(filled.every((mark) => mark.recordedAtHighWaterMs !== null)).toBe(true);
        // ...and the runner that goes on from the rebuilt read models carries them on from there.
        await appendAll(store, HISTORY.slice(0, 200), HISTORY.length);
        await new ProjectionRunner({ store, readStore: rebuilt, projections: ALL_PROJECTIONS, asOfSnapshotEvery: SNAPSHOT_EVERY }).catchUp();
        const later = await rebuilt.snapshots(lossTotalsProjection.name);
        expect(later.length).toBeGreaterThan(filled.length);
        expect(later.every((mark) => mark.recordedAtHighWaterMs !== null)).toBe(true);
        for (const ms of [START_MS + (HISTORY.length + 100) * 1_000, START_MS + (HISTORY.length + 10_000) * 1_000]) {
          const instant = DateTime.fromMillis(ms, { zone: 'utc' });
          expect(await asOfRebuilt.positionAsOf(instant)).toBe(await positionAsOf(store, instant));
        }
        await rebuilt.close();
      } finally {
        await store.close();
        rmSync(logDir, { recursive: true, force: true });
      }
    });
  });

  const describeWithServer = describeWithPostgres('the PostgreSQL as-of suites');
  describeWithServer('on PostgreSQL', () => {
    const db = new PostgresTestDatabase<ReadStore>('as_of_test');
    beforeAll(() => db.create());
    afterAll(() => db.drop());

    describeAsOf('a PostgreSQL read store', async () => openPostgresReadStore({ connectionString: db.url, schema: db.freshSchema('as_of'), poolSize: 3 }));
  });
});
