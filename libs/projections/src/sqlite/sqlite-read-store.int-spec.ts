import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { IndexFields } from '../projection';
import { CheckpointMovedError } from '../read-store.port';
import { describeReadStoreContract } from '../testing/read-store-contract';
import { openSqliteReadStore } from './sqlite-read-store';
import { READ_STORE_SCHEMA_VERSION } from './sqlite-read-store-schema';

describe('SqliteReadStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'read-store-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describeReadStoreContract('SqliteReadStore', () => openSqliteReadStore({ path: join(dir, 'contract', 'read.db') }));

  it('is configured for a store rebuilt from the log: WAL, synchronous NORMAL (no fsync per batch), a busy timeout, the schema version', async () => {
    const path = join(dir, 'read.db');
    const rs = openSqliteReadStore({ path });
    expect(rs.connectionSettings()).toEqual({ journalMode: 'wal', synchronous: 1, busyTimeoutMs: 5_000, schemaVersion: READ_STORE_SCHEMA_VERSION });
    await rs.commit('p', 1, undefined, 3n, new Map([['a', { key: 'a', doc: { n: '1' }, index: { asset: 'ETH' } }]]));
    await rs.close();
    const db = new Database(path);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    const reopened = openSqliteReadStore({ path });
    expect(await reopened.checkpoint('p')).toEqual({ position: 3n, version: 1 });
    expect(await reopened.get('p', 'a')).toEqual({ key: 'a', doc: { n: '1' }, index: { accountId: null, incidentId: null, asset: 'ETH', status: null } });
    await reopened.close();
  });

  it('lets only one of two connections on one file move a checkpoint from the same place', async () => {
    const path = join(dir, 'read.db');
    const [a, b] = [openSqliteReadStore({ path }), openSqliteReadStore({ path })];
    try {
      await a.commit('p', 1, undefined, 1n, new Map());
      await b.commit('p', 1, 1n, 2n, new Map([['from-b', { key: 'from-b', doc: 1, index: {} }]]));
      await expect(a.commit('p', 1, 1n, 2n, new Map([['from-a', { key: 'from-a', doc: 1, index: {} }]]))).rejects.toBeInstanceOf(
        CheckpointMovedError,
      );
      expect(await a.get('p', 'from-a')).toBeUndefined();
      expect(await a.get('p', 'from-b')).toBeDefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('reads a filtered list from the filter field index, in key order, without sorting', () => {
    const rs = openSqliteReadStore({ path: join(dir, 'read.db') });
    try {
      const plan = (filter: IndexFields): string => rs.listQueryPlan('p', { filter, afterKey: 'k', limit: 10 }).join(' | ');
      expect(plan({ accountId: 'alice' })).toMatch(/rows_by_account_id/);
      expect(plan({ incidentId: 'inc-1', asset: null, status: 'outstanding' })).toMatch(/rows_by_incident_id/);
      expect(plan({ asset: 'ETH' })).toMatch(/rows_by_asset/);
      expect(plan({ status: 'filed' })).toMatch(/rows_by_status/);
      for (const filter of [{ accountId: 'alice' }, { incidentId: 'inc-1' }, {}]) expect(plan(filter)).not.toMatch(/TEMP B-TREE/);
    } finally {
      void rs.close();
    }
  });

  it('needs a file', () => {
    expect(() => openSqliteReadStore({ path: ':memory:' })).toThrow(/file path/);
  });
});
