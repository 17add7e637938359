import type { ReadModelRow } from '../projection';
import { CheckpointMovedError, ROWS_PAGE_SIZE, snapshotName, type ReadStore, type SnapshotRequest } from '../read-store.port';

const row = (key: string, doc: unknown, index: ReadModelRow['index'] = {}): ReadModelRow => ({ key, doc, index });
const changes = (...rows: Array<ReadModelRow | [string, null]>): Map<string, ReadModelRow | null> =>
  new Map(rows.map((item) => (Array.isArray(item) ? item : [item.key, item])));

/** The behaviour every ReadStore shares; each adapter's spec runs it. */
export function describeReadStoreContract(name: string, open: () => ReadStore | Promise<ReadStore>): void {
  describe(`${name}: the read store contract`, () => {
    let rs: ReadStore;
    beforeEach(async () => {
      rs = await open();
    });
    afterEach(async () => {
      await rs.close();
    });

    it('commits rows and moves the checkpoint together', async () => {
      expect(await rs.checkpoint('p')).toBeUndefined();
      await rs.commit('p', 1, undefined, 5n, changes(row('a', { n: '1' }, { accountId: 'alice' })));
      expect(await rs.checkpoint('p')).toEqual({ position: 5n, version: 1 });
      expect(await rs.get('p', 'a')).toEqual({ key: 'a', doc: { n: '1' }, index: { accountId: 'alice', incidentId: null, asset: null, status: null } });
      await rs.commit('p', 1, 5n, 9n, changes(['a', null], row('b', { n: '2' })));
      expect(await rs.get('p', 'a')).toBeUndefined();
      expect((await rs.get('p', 'b'))?.doc).toEqual({ n: '2' });
      expect(await rs.checkpoint('p')).toEqual({ position: 9n, version: 1 });
    });

    it('refuses, writing nothing, a commit from a checkpoint that is no longer stored', async () => {
      await rs.commit('p', 1, undefined, 5n, changes(row('a', 1)));
      const stale = [
        () => rs.commit('p', 1, undefined, 6n, changes(row('x', 1))),
        () => rs.commit('p', 1, 4n, 6n, changes(row('x', 1))),
        // The same position under another version is another read model.
        () => rs.commit('p', 2, 5n, 6n, changes(row('x', 1))),
      ];
      for (const commit of stale) await expect(commit()).rejects.toBeInstanceOf(CheckpointMovedError);
      expect(await rs.get('p', 'x')).toBeUndefined();
      expect(await rs.checkpoint('p')).toEqual({ position: 5n, version: 1 });
    });

    it('leaves nothing behind when a commit fails part way', async () => {
      await rs.commit('p', 1, undefined, 1n, changes(row('kept', 'old')));
      // The second row has no JSON form (a bigint), so the commit fails after the first row is written.
      const failing = changes(row('kept', 'new'), row('broken', { amount: 1n }), row('later', 1));
      await expect(rs.commit('p', 1, 1n, 2n, failing)).rejects.toThrow();
      expect((await rs.get('p', 'kept'))?.doc).toBe('old');
      expect(await rs.get('p', 'later')).toBeUndefined();
      expect(await rs.checkpoint('p')).toEqual({ position: 1n, version: 1 });
    });

    it('commits several projections all or nothing', async () => {
      await rs.commit('moved', 1, undefined, 3n, changes(row('m', 1)));
      const attempt = rs.commitMany([
        { projection: 'first', version: 1, from: undefined, to: 3n, changes: changes(row('f', 1)) },
        { projection: 'moved', version: 1, from: undefined, to: 3n, changes: changes(row('m', 2)) },
      ]);
      await expect(attempt).rejects.toMatchObject({ projection: 'moved' });
      expect(await rs.checkpoint('first')).toBeUndefined();
      expect(await rs.get('first', 'f')).toBeUndefined();

      await rs.commitMany([
        { projection: 'first', version: 1, from: undefined, to: 3n, changes: changes(row('f', 1)) },
        { projection: 'moved', version: 1, from: 3n, to: 4n, changes: changes(row('m', 2)) },
      ]);
      expect(await rs.checkpoint('first')).toEqual({ position: 3n, version: 1 });
      expect((await rs.get('moved', 'm'))?.doc).toBe(2);
    });

    it('refuses a checkpoint that does not move forwards', async () => {
      await rs.commit('p', 1, undefined, 5n, new Map());
      await expect(rs.commit('p', 1, 5n, 5n, new Map())).rejects.toThrow(RangeError);
      await expect(rs.commit('p', 1, undefined, 0n, new Map())).rejects.toThrow(RangeError);
    });

    it('lists rows by key after a key, matching every filter field given, null meaning "not applicable"', async () => {
      await rs.commit(
        'p',
        1,
        undefined,
        1n,
        changes(
          row('inc-1/alice', 'a', { incidentId: 'inc-1', accountId: 'alice', status: 'outstanding' }),
          row('inc-1/alice/ETH', 'a-eth', { incidentId: 'inc-1', accountId: 'alice', asset: 'ETH', status: 'outstanding' }),
          row('inc-1/bob', 'b', { incidentId: 'inc-1', accountId: 'bob', status: 'reimbursed' }),
          row('inc-1/bob/BTC', 'b-btc', { incidentId: 'inc-1', accountId: 'bob', asset: 'BTC', status: 'reimbursed' }),
          row('inc-1/carol', 'c', { incidentId: 'inc-1', accountId: 'carol', status: 'outstanding' }),
          row('inc-2/alice', 'a2', { incidentId: 'inc-2', accountId: 'alice', status: 'outstanding' }),
          row('private', 'x'),
        ),
      );
      const keys = async (query: Parameters<ReadStore['list']>[1]): Promise<string[]> => (await rs.list('p', query)).map((r) => r.key);
      expect(await keys({ limit: 100 })).toEqual([
        'inc-1/alice', 'inc-1/alice/ETH', 'inc-1/bob', 'inc-1/bob/BTC', 'inc-1/carol', 'inc-2/alice', 'private',
      ]);
      expect(await keys({ filter: { incidentId: 'inc-1', asset: null }, limit: 100 })).toEqual(['inc-1/alice', 'inc-1/bob', 'inc-1/carol']);
      expect(await keys({ filter: { incidentId: 'inc-1', asset: null, status: 'outstanding' }, limit: 100 })).toEqual(['inc-1/alice', 'inc-1/carol']);
      expect(await keys({ filter: { incidentId: 'inc-1', asset: 'BTC' }, limit: 100 })).toEqual(['inc-1/bob/BTC']);
      expect(await keys({ filter: { accountId: 'alice' }, limit: 100 })).toEqual(['inc-1/alice', 'inc-1/alice/ETH', 'inc-2/alice']);
      expect(await keys({ filter: { status: 'reimbursed' }, limit: 100 })).toEqual(['inc-1/bob', 'inc-1/bob/BTC']);
      expect(await keys({ filter: { incidentId: null }, limit: 100 })).toEqual(['private']);
      // Keyset paging: after a key, at most `limit`.
      expect(await keys({ filter: { incidentId: 'inc-1', asset: null }, limit: 2 })).toEqual(['inc-1/alice', 'inc-1/bob']);
      expect(await keys({ filter: { incidentId: 'inc-1', asset: null }, afterKey: 'inc-1/bob', limit: 2 })).toEqual(['inc-1/carol']);
      expect(await keys({ filter: { incidentId: 'nope' }, limit: 2 })).toEqual([]);
      expect(await rs.list('other', { limit: 5 })).toEqual([]);
    });

    it('refuses a list limit out of bounds', async () => {
      await expect(rs.list('p', { limit: 0 })).rejects.toThrow(RangeError);
      await expect(rs.list('p', { limit: 1.5 })).rejects.toThrow(RangeError);
    });

    it('orders keys by code point, as SQLite does', async () => {
      const keys = ['b', 'a', 'ab', 'a\u{1F600}', 'a\uFFFD', 'B', '_'];
      await rs.commit('p', 1, undefined, 1n, changes(...keys.map((key) => row(key, key))));
      expect((await rs.list('p', { limit: 100 })).map((r) => r.key)).toEqual(['B', '_', 'a', 'ab', 'a\uFFFD', 'a\u{1F600}', 'b']);
    });

    it('reads every row of a projection in key order, a page at a time', async () => {
      const count = ROWS_PAGE_SIZE * 2 + 7;
      const many = Array.from({ length: count }, (_, i) => row(`k${String(i).padStart(5, '0')}`, i));
      await rs.commit('p', 1, undefined, 1n, changes(...many));
      await rs.commit('q', 1, undefined, 1n, changes(row('other', 1)));
      const seen: string[] = [];
      for await (const r of rs.rows('p')) seen.push(r.key);
      expect(seen).toEqual(many.map((r) => r.key));
    });

    it('resets one projection: its rows and checkpoint are gone, the others stay', async () => {
      await rs.commit('p', 1, undefined, 4n, changes(row('a', 1)));
      await rs.commit('q', 1, undefined, 4n, changes(row('a', 2)));
      await rs.reset('p');
      expect(await rs.checkpoint('p')).toBeUndefined();
      expect(await rs.get('p', 'a')).toBeUndefined();
      expect(await rs.checkpoint('q')).toEqual({ position: 4n, version: 1 });
      await rs.commit('p', 2, undefined, 1n, changes(row('b', 3)));
      expect(await rs.checkpoint('p')).toEqual({ position: 1n, version: 2 });
    });

    it('promotes staged projections onto their targets together: the old rows gone, the staged name empty', async () => {
      await rs.commit('p', 1, undefined, 9n, changes(row('old', 1), row('both', 'old')));
      await rs.commit('q', 1, undefined, 9n, changes(row('kept', 1)));
      await rs.commit('p~next', 2, undefined, 7n, changes(row('both', 'new', { accountId: 'alice' }), row('fresh', 2)));
      await rs.commit('q~next', 2, undefined, 7n, new Map());
      await rs.promote([
        { staged: 'p~next', target: 'p' },
        { staged: 'q~next', target: 'q' },
      ]);
      expect(await rs.checkpoint('p')).toEqual({ position: 7n, version: 2 });
      expect(await rs.list('p', { limit: 10 })).toEqual([
        { key: 'both', doc: 'new', index: { accountId: 'alice', incidentId: null, asset: null, status: null } },
        { key: 'fresh', doc: 2, index: { accountId: null, incidentId: null, asset: null, status: null } },
      ]);
      expect(await rs.list('p', { filter: { accountId: 'alice' }, limit: 10 })).toHaveLength(1);
      expect(await rs.checkpoint('q')).toEqual({ position: 7n, version: 2 });
      expect(await rs.list('q', { limit: 10 })).toEqual([]);
      expect(await rs.checkpoint('p~next')).toBeUndefined();
      expect(await rs.list('p~next', { limit: 10 })).toEqual([]);
      // The runner that committed p at 9 finds its checkpoint moved; one that starts from the promoted one goes on.
      await expect(rs.commit('p', 1, 9n, 10n, new Map())).rejects.toBeInstanceOf(CheckpointMovedError);
      await rs.commit('p', 2, 7n, 10n, changes(row('later', 3)));
      await rs.commit('p~next', 2, undefined, 1n, new Map());
      expect(await rs.checkpoint('p~next')).toEqual({ position: 1n, version: 2 });
    });

    it('promotes nothing staged as an empty read model, and refuses a promotion onto itself', async () => {
      await rs.commit('p', 1, undefined, 3n, changes(row('a', 1)));
      await rs.promote([{ staged: 'p~next', target: 'p' }]);
      expect(await rs.checkpoint('p')).toBeUndefined();
      expect(await rs.get('p', 'a')).toBeUndefined();
      await expect(rs.promote([{ staged: 'p', target: 'p' }])).rejects.toThrow(RangeError);
    });

    describe('as-of snapshots', () => {
      const request = (over: Partial<SnapshotRequest> = {}): SnapshotRequest => ({
        source: 'p',
        projection: 'p',
        version: 1,
        from: 5n,
        position: 8n,
        recordedAtHighWaterMs: 1_642_000_000_000,
        changes: new Map(),
        ...over,
      });
      const rowsOf = async (name: string) => {
        const found = [];
        for await (const item of rs.rows(name)) found.push([item.key, item.doc]);
        return found;
      };

      it('copies the rows at the checkpoint with the uncommitted changes laid over them, in one transaction', async () => {
        await rs.commit('p', 1, undefined, 5n, changes(row('a', 'a@5', { incidentId: 'inc' }), row('b', 'b@5'), row('c', 'c@5')));
        await rs.takeSnapshot(request({ changes: changes(row('a', 'a@8', { incidentId: 'inc' }), ['b', null], row('d', 'd@8')) }));
        expect(await rowsOf(snapshotName('p', 8n))).toEqual([
          ['a', 'a@8'],
          ['c', 'c@5'],
          ['d', 'd@8'],
        ]);
        expect(await rs.list(snapshotName('p', 8n), { filter: { incidentId: 'inc' }, limit: 10 })).toHaveLength(1);
        expect(await rs.snapshots('p')).toEqual([{ projection: 'p', version: 1, position: 8n, recordedAtHighWaterMs: 1_642_000_000_000 }]);
        // The projection itself is untouched: the changes belong to a batch that has not committed yet.
        expect(await rowsOf('p')).toEqual([
          ['a', 'a@5'],
          ['b', 'b@5'],
          ['c', 'c@5'],
        ]);
        expect(await rs.checkpoint('p')).toEqual({ position: 5n, version: 1 });
      });

      it('refuses, writing nothing, a snapshot from a checkpoint that is no longer stored', async () => {
        await rs.commit('p', 1, undefined, 5n, changes(row('a', 1)));
        for (const stale of [request({ from: 4n }), request({ from: undefined }), request({ version: 2 }), request({ source: 'other' })]) {
          await expect(rs.takeSnapshot(stale)).rejects.toBeInstanceOf(CheckpointMovedError);
        }
        expect(await rs.snapshots('p')).toEqual([]);
        expect(await rowsOf(snapshotName('p', 8n))).toEqual([]);
        await expect(rs.takeSnapshot(request({ from: 9n }))).rejects.toThrow(RangeError);
      });

      it('keeps snapshots by position, replaces one at the same position, and drops those of another version', async () => {
        await rs.commit('p', 1, undefined, 5n, changes(row('a', 'v1@5')));
        await rs.takeSnapshot(request({ position: 5n }));
        await rs.commit('p', 1, 5n, 12n, changes(row('a', 'v1@12')));
        await rs.takeSnapshot(request({ from: 12n, position: 12n, recordedAtHighWaterMs: 1 }));
        await rs.takeSnapshot(request({ from: 12n, position: 12n, recordedAtHighWaterMs: 2 }));
        expect((await rs.snapshots('p')).map((mark) => [mark.position, mark.recordedAtHighWaterMs])).toEqual([
          [5n, 1_642_000_000_000],
          [12n, 2],
        ]);
        expect(await rowsOf(snapshotName('p', 12n))).toEqual([['a', 'v1@12']]);

        await rs.reset('p');
        await rs.commit('p', 2, undefined, 12n, changes(row('a', 'v2@12')));
        await rs.takeSnapshot(request({ version: 2, from: 12n, position: 12n }));
        expect((await rs.snapshots('p')).map((mark) => [mark.version, mark.position])).toEqual([[2, 12n]]);
        expect(await rowsOf(snapshotName('p', 5n))).toEqual([]);
        expect(await rowsOf(snapshotName('p', 12n))).toEqual([['a', 'v2@12']]);
      });

      it('records a high-water not known when the snapshot was taken, and only for a snapshot that exists', async () => {
        await rs.commit('p', 1, undefined, 8n, changes(row('a', 1)));
        await rs.takeSnapshot(request({ from: 8n, recordedAtHighWaterMs: null }));
        expect((await rs.snapshots('p'))[0]!.recordedAtHighWaterMs).toBeNull();
        await rs.recordSnapshotHighWater('p', 8n, 42);
        await rs.recordSnapshotHighWater('p', 9n, 43);
        expect(await rs.snapshots('p')).toEqual([{ projection: 'p', version: 1, position: 8n, recordedAtHighWaterMs: 42 }]);
        expect(await rowsOf(snapshotName('p', 8n))).toEqual([['a', 1]]);
      });

      it('files a staged projection\'s snapshot under the target, which a reset of the target keeps', async () => {
        await rs.commit('p~rebuild', 1, undefined, 8n, changes(row('a', 'staged')));
        await rs.takeSnapshot(request({ source: 'p~rebuild', from: 8n }));
        await rs.reset('p');
        expect(await rs.snapshots('p')).toHaveLength(1);
        expect(await rowsOf(snapshotName('p', 8n))).toEqual([['a', 'staged']]);
      });
    });
  });
}
