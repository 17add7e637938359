import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteEventStore, type EventStore } from '@app/event-store';
import { DateTime } from 'luxon';
import { ProjectionRunner } from './projection-runner';
import { ALL_PROJECTIONS, balancesProjection } from './read-models';
import { positionAsOf, rebuild, reconcile, replay, replayAsOf } from './replay';
import { openSqliteReadStore, type SqliteReadStore } from './sqlite/sqlite-read-store';
import { ledgerHistory } from './testing/ledger-history';
import { appendAll } from './testing/recorded';
import { snapshot } from './testing/snapshot';

const HISTORY = ledgerHistory({ accounts: 25, operations: 1_200, seed: 5 });
/** ledgerHistory records event i at 2022-01-10T00:00:00Z + i seconds. */
const recordedAt = (index: number): DateTime => DateTime.fromISO('2022-01-10T00:00:00Z', { zone: 'utc' }).plus({ seconds: index });

describe('replay, as-of, rebuild and reconcile', () => {
  let logDir: string;
  let store: EventStore;
  let head: bigint;
  let dir: string;
  let open: Array<{ close(): Promise<void> }>;

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'replay-log-'));
    store = openSqliteEventStore({ path: join(logDir, 'events.db') });
    head = (await appendAll(store, HISTORY))!;
  });
  afterAll(async () => {
    await store.close();
    rmSync(logDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'replay-'));
    open = [];
  });
  afterEach(async () => {
    await Promise.all(open.map((item) => item.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const readStore = (name = 'read.db'): SqliteReadStore => {
    const rs = openSqliteReadStore({ path: join(dir, name) });
    open.push(rs);
    return rs;
  };

  it.each([1, 2, 417, 1_000])('replays to position %i exactly as a rebuild of a log holding only the first events', async (n) => {
    const prefix = openSqliteEventStore({ path: join(dir, 'prefix.db') });
    open.push(prefix);
    await appendAll(prefix, HISTORY.slice(0, n));
    const rebuilt = readStore();
    await rebuild({ store: prefix, readStore: rebuilt, projections: ALL_PROJECTIONS });

    const asOf = await replay({ store, projections: ALL_PROJECTIONS, toPosition: BigInt(n) });
    expect(await snapshot(asOf, ALL_PROJECTIONS)).toEqual(await snapshot(rebuilt, ALL_PROJECTIONS));
    for (const { name, version } of ALL_PROJECTIONS) expect(await asOf.checkpoint(name)).toEqual({ position: BigInt(n), version });
  });

  it('replays nothing at position 0', async () => {
    const nothing = await replay({ store, projections: ALL_PROJECTIONS, toPosition: 0n });
    expect(await snapshot(nothing, ALL_PROJECTIONS)).toEqual(Object.fromEntries(ALL_PROJECTIONS.map(({ name }) => [name, []])));
  });

  it('finds the last position recorded at or before an instant', async () => {
    expect(await positionAsOf(store, recordedAt(-1))).toBeUndefined();
    expect(await positionAsOf(store, recordedAt(0))).toBe(1n);
    expect(await positionAsOf(store, recordedAt(99).plus({ milliseconds: 999 }))).toBe(100n);
    expect(await positionAsOf(store, recordedAt(100))).toBe(101n);
    // The instant may be in any zone: it is the same instant.
    expect(await positionAsOf(store, recordedAt(100).setZone('America/New_York'))).toBe(101n);
    expect(await positionAsOf(store, recordedAt(HISTORY.length + 1_000))).toBe(head);
    const asOf = await replayAsOf({ store, projections: [balancesProjection], instant: recordedAt(299) });
    expect(await asOf.checkpoint('balances')).toEqual({ position: 300n, version: 1 });
  });

  it('rebuilds from zero with progress, and a rebuilt read model reconciles clean', async () => {
    const rs = readStore();
    await new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS }).catchUp({ toPosition: 500n });
    const progress: Array<{ position: bigint; targetPosition: bigint }> = [];
    const result = await rebuild({ store, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 250, onProgress: (p) => progress.push(p) });
    expect(result.position).toBe(head);
    expect(progress[0]!.position).toBeLessThan(500n);
    expect(progress[progress.length - 1]).toMatchObject({ position: head, targetPosition: head });

    const report = await reconcile({ store, readStore: rs, projections: ALL_PROJECTIONS });
    for (const projection of report.projections) {
      expect(projection).toMatchObject({ checkpoint: head, differenceCount: 0, differences: [] });
      expect(projection.rowsCompared).toBeGreaterThan(0);
    }
  });

  it('reconciles each projection up to its own checkpoint', async () => {
    const rs = readStore();
    await new ProjectionRunner({ store, readStore: rs, projections: [balancesProjection] }).catchUp({ toPosition: 300n });
    await new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS.filter((p) => p !== balancesProjection) }).catchUp();
    const report = await reconcile({ store, readStore: rs, projections: ALL_PROJECTIONS });
    expect(report.projections.map((p) => [p.name, p.checkpoint, p.differenceCount])).toEqual(
      ALL_PROJECTIONS.map(({ name }) => [name, name === 'balances' ? 300n : head, 0]),
    );
  });

  it('reports rows edited, deleted or added behind the runner’s back, directly in the SQLite file', async () => {
    const rs = readStore();
    await new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS }).catchUp();
    const [edited, deleted] = (await rs.list('balances', { filter: { asset: 'ETH' }, limit: 2 })).map((row) => row.key);
    const db = new Database(rs.path);
    try {
      const doc = JSON.parse(db.prepare<[string], { doc: string }>("SELECT doc FROM rows WHERE projection = 'balances' AND key = ?").get(edited!)!.doc);
      db.prepare("UPDATE rows SET doc = ? WHERE projection = 'balances' AND key = ?").run(JSON.stringify({ ...doc, available: '1000000' }), edited!);
      db.prepare("DELETE FROM rows WHERE projection = 'balances' AND key = ?").run(deleted!);
      db.prepare("INSERT INTO rows (projection, key, doc, account_id) VALUES ('balances', 'balance/mallory/ETH', '{}', 'mallory')").run();
      // A changed index alone is a difference too.
      db.prepare("UPDATE rows SET status = 'x' WHERE projection = 'reimbursements' AND key = (SELECT min(key) FROM rows WHERE projection = 'reimbursements')").run();
    } finally {
      db.close();
    }
    const report = await reconcile({ store, readStore: rs, projections: ALL_PROJECTIONS });
    const balances = report.projections.find((p) => p.name === 'balances')!;
    expect(balances.differenceCount).toBe(3);
    expect(balances.differences).toEqual(
      expect.arrayContaining([
        { key: edited, stored: expect.objectContaining({ doc: expect.objectContaining({ available: '1000000' }) }), replayed: expect.objectContaining({ key: edited }) },
        { key: deleted, stored: null, replayed: expect.objectContaining({ key: deleted }) },
        { key: 'balance/mallory/ETH', stored: expect.objectContaining({ doc: {} }), replayed: null },
      ]),
    );
    expect(report.projections.find((p) => p.name === 'reimbursements')!.differenceCount).toBe(1);
    expect(report.projections.filter((p) => p.differenceCount > 0).map((p) => p.name)).toEqual(['balances', 'reimbursements']);
  });

  it('reports at most 100 differences, and counts them all', async () => {
    const rs = readStore();
    await new ProjectionRunner({ store, readStore: rs, projections: [balancesProjection] }).catchUp();
    const db = new Database(rs.path);
    try {
      db.prepare("UPDATE rows SET doc = '{}' WHERE projection = 'balances'").run();
    } finally {
      db.close();
    }
    const [balances] = (await reconcile({ store, readStore: rs, projections: [balancesProjection] })).projections;
    expect(balances!.differences).toHaveLength(100);
    expect(balances!.differenceCount).toBe(balances!.rowsCompared);
    expect(balances!.rowsCompared).toBeGreaterThan(100);
  });

  it('reports a projection stored by another version without comparing its rows', async () => {
    const rs = readStore();
    await rs.commit('balances', 7, undefined, 3n, new Map());
    const [balances] = (await reconcile({ store, readStore: rs, projections: [balancesProjection] })).projections;
    expect(balances).toMatchObject({ name: 'balances', storedVersion: 7, differenceCount: 1, rowsCompared: 0 });
  });
});
