import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresEventStore, openSqliteEventStore, type EventStore } from '@app/event-store';
import { describeWithPostgres, PostgresTestDatabase } from '@app/event-store/testing/postgres-test-database';
import { Client, escapeIdentifier } from 'pg';
import type { Projection, ReadModelRow } from '../projection';
import { ProjectionRunner, type ProjectionLogger } from '../projection-runner';
import { ALL_PROJECTIONS } from '../read-models';
import { openReadStore } from '../read-store-location';
import { CheckpointMovedError, type ReadStore } from '../read-store.port';
import { reconcile, replay } from '../replay';
import { openSqliteReadStore } from '../sqlite/sqlite-read-store';
import { ledgerHistory } from '../testing/ledger-history';
import { describeReadStoreContract } from '../testing/read-store-contract';
import { appendAll } from '../testing/recorded';
import { snapshot } from '../testing/snapshot';
import { openPostgresReadStore, WRITE_CHUNK_ROWS, type PostgresReadStore, type PostgresReadStoreOptions } from './postgres-read-store';
import { POSTGRES_READ_STORE_SCHEMA_VERSION } from './postgres-read-store-schema';

/** The slowest tests take 1 to 2 seconds; the margin is for a loaded machine (2 cores shared with the server). */
jest.setTimeout(60_000);

const describeWithServer = describeWithPostgres('the PostgreSQL read store suites');

/** The suite's database, with `open` for a store on one of its schemas. */
class TestDatabase extends PostgresTestDatabase<ReadStore> {
  async open(schema: string, options: Omit<PostgresReadStoreOptions, 'connectionString' | 'schema'> = {}): Promise<PostgresReadStore> {
    return this.track(await openPostgresReadStore({ poolSize: 3, ...options, connectionString: this.url, schema }));
  }
}

const row = (key: string, doc: unknown, index: ReadModelRow['index'] = {}): ReadModelRow => ({ key, doc, index });
const changes = (...rows: ReadModelRow[]): Map<string, ReadModelRow | null> => new Map(rows.map((item) => [item.key, item]));

/** Settles every promise; counts the fulfilled ones and checks that every rejection is a CheckpointMovedError. */
async function outcomes(attempts: readonly Promise<unknown>[]): Promise<{ won: number[]; lost: number }> {
  const settled = await Promise.allSettled(attempts);
  const won: number[] = [];
  let lost = 0;
  settled.forEach((result, index) => {
    if (result.status === 'fulfilled') won.push(index);
    else if (result.reason instanceof CheckpointMovedError) lost += 1;
    else throw result.reason;
  });
  return { won, lost };
}

describeWithServer('PostgresReadStore', () => {
  const db = new TestDatabase('read_store_test');
  beforeAll(() => db.create());
  afterAll(() => db.drop());
  afterEach(() => db.closeStores());

  describeReadStoreContract('PostgresReadStore', () => db.open(db.freshSchema('contract')));

  describe('schema', () => {
    it('migrates a fresh schema exactly once when several processes start at once, and keeps it on reopening', async () => {
      const schema = db.freshSchema('migrate');
      const stores = await Promise.all(Array.from({ length: 5 }, () => db.open(schema, { poolSize: 1 })));
      const versions = await db.query<{ version: number }>(`SELECT version FROM ${escapeIdentifier(schema)}.read_store_migrations`);
      expect(versions).toEqual([{ version: POSTGRES_READ_STORE_SCHEMA_VERSION }]);
      await stores[0]!.commit('p', 1, undefined, 3n, changes(row('a', { n: '1' }, { asset: 'ETH' })));
      await db.closeStores();
      const reopened = await db.open(schema);
      expect(await reopened.checkpoint('p')).toEqual({ position: 3n, version: 1 });
      expect(await reopened.get('p', 'a')).toEqual({ key: 'a', doc: { n: '1' }, index: { accountId: null, incidentId: null, asset: 'ETH', status: null } });
    });

    it('refuses a schema that a newer version of the code migrated', async () => {
      const schema = db.freshSchema('newer');
      await (await db.open(schema)).close();
      await db.query(`INSERT INTO ${escapeIdentifier(schema)}.read_store_migrations (version) VALUES ($1)`, [POSTGRES_READ_STORE_SCHEMA_VERSION + 1]);
      await expect(db.open(schema)).rejects.toThrow(/read store schema version 2; this code knows versions up to 1/);
    });

    it('shares a schema with the event store without meeting its tables', async () => {
      const schema = db.freshSchema('shared');
      const events = await openPostgresEventStore({ connectionString: db.url, schema, poolSize: 2 });
      try {
        const rs = await db.open(schema);
        await rs.commit('p', 1, undefined, 1n, changes(row('a', 1)));
        await events.append('s-1', [{ eventId: '7b0a1f5e-64c6-4f57-9d0a-3c3f0c6f9b11', type: 'Tested', data: {}, metadata: metadata() }], {
          expectedRevision: 'no_stream',
        });
        expect(await events.headPosition()).toBe(1n);
        expect(await rs.checkpoint('p')).toEqual({ position: 1n, version: 1 });
      } finally {
        await events.close();
      }
    });

    it('refuses options it cannot honour', async () => {
      await expect(openPostgresReadStore({ connectionString: db.url, schema: 'bad-name' })).rejects.toThrow(/plain identifier/);
      await expect(openPostgresReadStore({ connectionString: db.url, schema: 'x'.repeat(64) })).rejects.toThrow(/plain identifier/);
      await expect(openPostgresReadStore({ connectionString: db.url, poolSize: 0 })).rejects.toThrow(/poolSize/);
      await expect(openPostgresReadStore({ connectionString: '' })).rejects.toThrow(/connection string/);
    });

    it('is what openReadStore opens for a postgres location, in the read_models schema', async () => {
      const rs = db.track(await openReadStore({ kind: 'postgres', url: db.url }));
      await rs.commit('located', 1, undefined, 1n, changes(row('a', 1)));
      expect(await db.query('SELECT projection FROM read_models.checkpoints')).toEqual([{ projection: 'located' }]);
    });
  });

  describe('the checkpoint compare-and-set', () => {
    it('lets exactly one of several stores move a checkpoint from the same place, round after round', async () => {
      const schema = db.freshSchema('race');
      const stores = await Promise.all(Array.from({ length: 4 }, () => db.open(schema, { poolSize: 2 })));
      let from: bigint | undefined;
      for (let round = 1; round <= 15; round += 1) {
        const to = BigInt(round * 10);
        const attempts = stores.map((rs, i) => rs.commit('p', 1, from, to, changes(row(`r${round}`, i), row(`by-${i}`, round))));
        const { won, lost } = await outcomes(attempts);
        expect(won).toHaveLength(1);
        expect(lost).toBe(stores.length - 1);
        expect((await stores[0]!.get('p', `r${round}`))?.doc).toBe(won[0]);
        from = to;
      }
      expect(await stores[1]!.checkpoint('p')).toEqual({ position: 150n, version: 1 });
    });

    it('never deadlocks nor half-applies commits of several projections named in opposite orders', async () => {
      const schema = db.freshSchema('order');
      const [a, b] = [await db.open(schema), await db.open(schema)];
      let from: bigint | undefined;
      for (let round = 1; round <= 15; round += 1) {
        const to = BigInt(round);
        const commit = (name: string, writer: string) => ({ projection: name, version: 1, from, to, changes: changes(row('w', writer)) });
        const { won } = await outcomes([
          a.commitMany([commit('p', 'a'), commit('q', 'a'), commit('r', 'a')]),
          b.commitMany([commit('r', 'b'), commit('q', 'b'), commit('p', 'b')]),
        ]);
        expect(won).toHaveLength(1);
        const writer = won[0] === 0 ? 'a' : 'b';
        for (const name of ['p', 'q', 'r']) {
          expect(await a.checkpoint(name)).toEqual({ position: to, version: 1 });
          expect((await a.get(name, 'w'))?.doc).toBe(writer);
        }
        from = to;
      }
    });

    it('makes a commit wait for a transaction holding the checkpoint, then see where it moved', async () => {
      const schema = db.freshSchema('wait');
      const rs = await db.open(schema);
      await rs.commit('p', 1, undefined, 1n, changes(row('a', 1)));
      const other = await db.client();
      try {
        await other.query('BEGIN');
        await other.query(`UPDATE ${escapeIdentifier(schema)}.checkpoints SET position = 2 WHERE projection = 'p'`);
        let settled = false;
        const waiting = rs.commit('p', 1, 1n, 2n, changes(row('late', 1))).finally(() => {
          settled = true;
        });
        waiting.catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(settled).toBe(false);
        await other.query('COMMIT');
        await expect(waiting).rejects.toMatchObject({ projection: 'p', expected: 1n, actual: { position: 2n, version: 1 } });
        expect(await rs.get('p', 'late')).toBeUndefined();
      } finally {
        await other.end();
      }
    });

    it('serialises the first commit of a projection, which has no checkpoint row yet to lock', async () => {
      const schema = db.freshSchema('first');
      const stores = await Promise.all(Array.from({ length: 4 }, () => db.open(schema, { poolSize: 1 })));
      for (let round = 1; round <= 10; round += 1) {
        const name = `fresh-${round}`;
        const { won } = await outcomes(stores.map((rs, i) => rs.commit(name, 1, undefined, 1n, changes(row(`by-${i}`, i)))));
        expect(won).toHaveLength(1);
        expect((await stores[0]!.list(name, { limit: 10 })).map((r) => r.key)).toEqual([`by-${won[0]}`]);
      }
    });

    it('leaves nothing of a projection when a reset races a commit', async () => {
      const schema = db.freshSchema('reset');
      const [a, b] = [await db.open(schema), await db.open(schema)];
      for (let round = 1; round <= 10; round += 1) {
        await a.commit('p', 1, undefined, 1n, changes(row('a', 1)));
        const settled = await Promise.allSettled([a.commit('p', 1, 1n, 2n, changes(row('b', 1))), b.reset('p')]);
        if (settled[0].status === 'rejected') expect(settled[0].reason).toBeInstanceOf(CheckpointMovedError);
        expect(settled[1].status).toBe('fulfilled');
        expect(await a.checkpoint('p')).toBeUndefined();
        expect(await a.list('p', { limit: 10 })).toEqual([]);
      }
    });
  });

  describe('storage', () => {
    it('keeps checkpoints as bigint beyond 2^53, and refuses one beyond a bigint column', async () => {
      const rs = await db.open(db.freshSchema('bigint'));
      const far = 2n ** 62n + 7n;
      await rs.commit('p', 1, undefined, far, new Map());
      expect(await rs.checkpoint('p')).toEqual({ position: far, version: 1 });
      await rs.commit('p', 1, far, far + 1n, new Map());
      expect(await rs.checkpoint('p')).toEqual({ position: far + 1n, version: 1 });
      await expect(rs.commit('p', 1, far + 1n, 2n ** 63n, new Map())).rejects.toThrow(RangeError);
      expect(await rs.checkpoint('p')).toEqual({ position: far + 1n, version: 1 });
    });

    it('writes a large commit in a few multi-row statements, not one per row', async () => {
      const rs = await db.open(db.freshSchema('chunks'));
      const count = WRITE_CHUNK_ROWS * 2 + 500;
      const many = Array.from({ length: count }, (_, i) => row(`k${String(i).padStart(5, '0')}`, { i }, { accountId: `acc-${i % 7}` }));
      const spy = jest.spyOn(Client.prototype, 'query');
      // The first words of each statement a commit sends.
      const sent = (): string[] =>
        spy.mock.calls.map(([query]) => (typeof query === 'string' ? query : (query as { text: string }).text).split(/\s+/).slice(0, 3).join(' '));
      try {
        await rs.commit('p', 1, undefined, 1n, changes(...many));
        const upsert = `INSERT INTO "${rs.schema}".rows`;
        const lock = `INSERT INTO "${rs.schema}".checkpoints`;
        expect(sent()).toEqual(['BEGIN ISOLATION LEVEL', lock, upsert, upsert, upsert, `UPDATE "${rs.schema}".checkpoints AS`, 'COMMIT']);
        spy.mockClear();
        const next = new Map<string, ReadModelRow | null>();
        for (let i = 0; i < count; i += 1) {
          const key = `k${String(i).padStart(5, '0')}`;
          next.set(key, i % 2 === 0 ? null : row(key, { i, v: 2 }, { accountId: 'moved' }));
        }
        await rs.commit('p', 1, 1n, 2n, next);
        const remove = `DELETE FROM "${rs.schema}".rows`;
        expect(sent()).toEqual(['BEGIN ISOLATION LEVEL', lock, remove, remove, upsert, upsert, `UPDATE "${rs.schema}".checkpoints AS`, 'COMMIT']);
      } finally {
        spy.mockRestore();
      }
      const left = await rs.list<{ i: number; v: number }>('p', { filter: { accountId: 'moved' }, limit: 10_000 });
      expect(left).toHaveLength(Math.floor(count / 2));
      expect(left.every((r) => r.doc.i % 2 === 1 && r.doc.v === 2)).toBe(true);
      expect(await rs.list('p', { filter: { accountId: 'acc-1' }, limit: 10 })).toEqual([]);
    });

    it('reads a filtered list from the index of the first field, in key order, without sorting', async () => {
      const schema = db.freshSchema('plan');
      const rs = await db.open(schema);
      const many = Array.from({ length: 20_000 }, (_, i) =>
        row(`inc-${i % 50}/acc-${i}`, i, { incidentId: `inc-${i % 50}`, accountId: `acc-${i}`, asset: i % 3 === 0 ? null : 'ETH', status: i % 2 ? 'filed' : 'paid' }),
      );
      await rs.commit('p', 1, undefined, 1n, changes(...many));
      await db.query(`ANALYZE ${escapeIdentifier(schema)}.rows`);
      const plan = async (filter: ReadModelRow['index']): Promise<string> =>
        (await rs.listQueryPlan('p', { filter, afterKey: 'inc-1', limit: 101 })).join(' | ');
      expect(await plan({ accountId: 'acc-7' })).toMatch(/rows_by_account_id/);
      expect(await plan({ incidentId: 'inc-7', asset: null })).toMatch(/rows_by_incident_id/);
      for (const filter of [{ accountId: 'acc-7' }, { incidentId: 'inc-7' }, {}]) expect(await plan(filter)).not.toMatch(/Sort/);
    });

    it('refuses, writing nothing, names and values PostgreSQL text cannot hold; reads find nothing under them', async () => {
      const rs = await db.open(db.freshSchema('unstorable'));
      await rs.commit('p', 1, undefined, 1n, changes(row('a', 1)));
      for (const bad of [changes(row('ok', 1), row('b\u0000', 1)), changes(row('ok', 1), row('b\uD800', 1)), changes(row('ok', 1, { accountId: 'x\u0000' }))]) {
        await expect(rs.commit('p', 1, 1n, 2n, bad)).rejects.toThrow(RangeError);
      }
      await expect(rs.commit('p\u0000', 1, undefined, 1n, new Map())).rejects.toThrow(RangeError);
      expect(await rs.get('p', 'ok')).toBeUndefined();
      expect(await rs.checkpoint('p')).toEqual({ position: 1n, version: 1 });
      // Docs are JSON text: any string survives.
      await rs.commit('p', 1, 1n, 2n, changes(row('doc', { text: 'nul \u0000 and lone \uD800' })));
      expect((await rs.get('p', 'doc'))?.doc).toEqual({ text: 'nul \u0000 and lone \uD800' });
      expect(await rs.get('p', 'a\u0000')).toBeUndefined();
      expect(await rs.get('p\u0000', 'a')).toBeUndefined();
      expect(await rs.checkpoint('p\u0000')).toBeUndefined();
      expect(await rs.list('p', { filter: { accountId: '\uDC00' }, limit: 5 })).toEqual([]);
      expect(await rs.list('p\uD800', { limit: 5 })).toEqual([]);
    });

    it('pages after a cursor key holding NUL or a lone surrogate exactly as the SQLite store does', async () => {
      const rs = await db.open(db.freshSchema('bounds'));
      const dir = mkdtempSync(join(tmpdir(), 'read-store-bounds-'));
      const sqlite = openSqliteReadStore({ path: join(dir, 'read.db') });
      try {
        const keys = ['a', 'a\u0001', 'ab', 'a\uD7FF', 'a\uD7FFz', 'a\uE000', 'a\uFFFD', 'a\u{1F600}', 'b'];
        for (const store of [rs, sqlite]) await store.commit('p', 1, undefined, 1n, changes(...keys.map((key) => row(key, key))));
        for (const afterKey of ['a\u0000', 'a\u0000zz', '\u0000', 'a\uD800', 'a\uDFFFx', 'a\uD7FF\uDC00', 'a\uFFFD']) {
          const pg = (await rs.list('p', { afterKey, limit: 100 })).map((r) => r.key);
          expect(pg).toEqual((await sqlite.list('p', { afterKey, limit: 100 })).map((r) => r.key));
        }
      } finally {
        await sqlite.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses calls once closed, and closes twice without harm', async () => {
      const rs = await openPostgresReadStore({ connectionString: db.url, schema: db.freshSchema('closed'), poolSize: 1 });
      await rs.close();
      await rs.close();
      await expect(rs.checkpoint('p')).rejects.toThrow(/closed/);
      await expect(rs.commit('p', 1, undefined, 1n, new Map())).rejects.toThrow(/closed/);
    });
  });
});

function metadata() {
  return {
    commandId: 'c-1',
    correlationId: 'c-1',
    causationId: 'c-1',
    actor: { id: 'test', role: 'service' as const },
    recordedAt: '2022-01-10T00:00:00.000Z',
    schemaVersion: 1,
  };
}

// ---- the runner on a PostgreSQL read store -------------------------------------------------------------------

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

describeWithServer('ProjectionRunner on a PostgreSQL read store', () => {
  const db = new TestDatabase('read_store_test');
  // The log is a SQLite event store in a temporary file, written once and only read.
  let logDir: string;
  let store: EventStore;
  let head: bigint;
  let expected: Record<string, ReadModelRow[]>;

  beforeAll(async () => {
    await db.create();
    logDir = mkdtempSync(join(tmpdir(), 'pg-runner-log-'));
    store = openSqliteEventStore({ path: join(logDir, 'events.db') });
    head = (await appendAll(store, HISTORY))!;
    expected = await snapshot(await replay({ store, projections: ALL_PROJECTIONS }), ALL_PROJECTIONS);
  });
  afterAll(async () => {
    await store.close();
    rmSync(logDir, { recursive: true, force: true });
    await db.drop();
  });
  afterEach(() => db.closeStores());

  it('catches every projection up to the head and agrees with an in-memory replay', async () => {
    const rs = await db.open(db.freshSchema('runner'));
    const result = await new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 100 }).catchUp();
    expect(result).toMatchObject({ position: head });
    for (const { name, version } of ALL_PROJECTIONS) expect(await rs.checkpoint(name)).toEqual({ position: head, version });
    expect(await snapshot(rs, ALL_PROJECTIONS)).toEqual(expected);
  });

  it.each([
    ['two store instances on one schema (two processes)', false],
    ['one store instance', true],
  ])('ends two runners racing over the same log with the rows of one replay: %s', async (_, shared) => {
    const schema = db.freshSchema('racing');
    const first = await db.open(schema);
    const readStores = shared ? [first, first] : [first, await db.open(schema)];
    const conflicts: string[] = [];
    const logger: ProjectionLogger = { log: (message) => conflicts.push(message), error: () => undefined };
    const runners = readStores.map(
      (readStore, i) => new ProjectionRunner({ store, readStore, projections: ALL_PROJECTIONS, batchSize: 17 + i * 13, logger }),
    );
    await Promise.all(runners.map((runner) => runner.catchUp()));
    expect(conflicts.some((message) => /checkpoint of projection/.test(message))).toBe(true);
    for (const { name, version } of ALL_PROJECTIONS) expect(await first.checkpoint(name)).toEqual({ position: head, version });
    expect(await snapshot(readStores[1]!, ALL_PROJECTIONS)).toEqual(expected);
  });

  it.each([
    ['balances', 1],
    ['balances', 400],
    ['incident-ledger', 150],
    ['loss-totals', 90],
    ['reimbursements', 30],
  ])('never applies an event twice or skips one when %s fails at its call %i and a new runner carries on', async (name, n) => {
    const schema = db.freshSchema('crash');
    const crashing = ALL_PROJECTIONS.map((projection) => (projection.name === name ? crashingAt(projection, n) : projection));
    const first = await db.open(schema);
    await expect(new ProjectionRunner({ store, readStore: first, projections: crashing, batchSize: 23 }).catchUp()).rejects.toThrow(/simulated crash/);
    // What the failed runner left is exactly the log up to its last commit.
    const left = await reconcile({ store, readStore: first, projections: ALL_PROJECTIONS });
    expect(left.projections.map((p) => p.differenceCount)).toEqual(ALL_PROJECTIONS.map(() => 0));
    expect((await first.checkpoint(name))?.position ?? 0n).toBeLessThan(head);
    await first.close();

    // A new process on the same schema carries on from the stored checkpoints.
    const restarted = await db.open(schema);
    await new ProjectionRunner({ store, readStore: restarted, projections: ALL_PROJECTIONS, batchSize: 23 }).catchUp();
    expect(await snapshot(restarted, ALL_PROJECTIONS)).toEqual(expected);
  });

  it('never applies an event twice when the process dies right after a commit', async () => {
    const schema = db.freshSchema('after_commit');
    const inner = await db.open(schema);
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
    await new ProjectionRunner({ store, readStore: await db.open(schema), projections: ALL_PROJECTIONS, batchSize: 50 }).catchUp();
    expect(await snapshot(inner, ALL_PROJECTIONS)).toEqual(expected);
  });

  it('follows the log live after start(): appends made later are folded, and waitUntil sees them', async () => {
    const live = openSqliteEventStore({ path: join(logDir, `live-${randomBytes(4).toString('hex')}.db`), subscriptionPollIntervalMs: 20 });
    try {
      const liveHead = (await appendAll(live, HISTORY.slice(0, 600)))!;
      const rs = await db.open(db.freshSchema('live'));
      const runner = new ProjectionRunner({ store: live, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 50 });
      runner.start();
      try {
        expect(await runner.waitUntil(liveHead, 30_000)).toBe(true);
        const last = (await appendAll(live, HISTORY.slice(600, 900), 600, 40))!;
        expect(await runner.waitUntil(last, 30_000)).toBe(true);
        expect((await runner.status()).every((status) => status.lagEvents === 0n)).toBe(true);
      } finally {
        await runner.stop();
      }
      expect(await snapshot(rs, ALL_PROJECTIONS)).toEqual(await snapshot(await replay({ store: live, projections: ALL_PROJECTIONS }), ALL_PROJECTIONS));
    } finally {
      await live.close();
    }
  });

  it('reads rows back from the store when its cache is too small to hold them, with the same result', async () => {
    const rs = await db.open(db.freshSchema('small_cache'));
    await new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 40, maxCachedRows: 8 }).catchUp();
    expect(await snapshot(rs, ALL_PROJECTIONS)).toEqual(expected);
  });
});
