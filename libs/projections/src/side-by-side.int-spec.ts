import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import { rebuildInParallel } from './parallel/parallel-rebuild';
import type { ReadModelRow } from './projection';
import { ProjectionRunner } from './projection-runner';
import { ALL_PROJECTIONS } from './read-models';
import type { ReadStore } from './read-store.port';
import { rebuild } from './replay';
import { openSqliteReadStore, type SqliteReadStore } from './sqlite/sqlite-read-store';
import { ledgerHistory } from './testing/ledger-history';
import { appendAll } from './testing/recorded';
import { snapshot } from './testing/snapshot';

const WORKER_SCRIPT = join(__dirname, '../../../dist/libs/projections/src/parallel/fold-worker.js');
const HISTORY = ledgerHistory({ accounts: 30, operations: 1_500, seed: 19 });
/** Small batches: many commits, so that a rebuild done in place would show many partial read models. */
const BATCH_SIZE = 100;

/** The log, handing the event loop back every few events, as the CLI's store does, so that the reader gets turns. */
function yielding(store: EventStore): EventStore {
  async function* readAll(events: AsyncIterable<RecordedEvent>): AsyncGenerator<RecordedEvent> {
    let count = 0;
    for await (const event of events) {
      yield event;
      count += 1;
      if (count % 25 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return new Proxy(store, {
    get: (target, property) => (property === 'readAll' ? (options: Parameters<EventStore['readAll']>[0]) => readAll(target.readAll(options)) : Reflect.get(target, property)),
  });
}

/**
 * A reader on its own connection (as the API is, in another process) asks, turn after turn, for rows and
 * checkpoints of every read model, and counts every answer that differs from the complete read model.
 */
function continuousReader(reader: ReadStore, expected: Record<string, ReadModelRow[]>, head: bigint) {
  let stop = false;
  let reads = 0;
  const wrong: string[] = [];
  const done = (async () => {
    for (let turn = 0; !stop; turn += 1) {
      for (const projection of ALL_PROJECTIONS) {
        const rows = expected[projection.name]!;
        const checkpoint = await reader.checkpoint(projection.name);
        if (checkpoint?.position !== head) wrong.push(`${projection.name}: checkpoint ${String(checkpoint?.position)}`);
        if (rows.length === 0) continue;
        const want = rows[turn % rows.length]!;
        const got = await reader.get(projection.name, want.key);
        if (JSON.stringify(got?.doc) !== JSON.stringify(want.doc)) wrong.push(`${projection.name}/${want.key}: ${JSON.stringify(got?.doc)}`);
        const page = await reader.list(projection.name, { limit: 20 });
        if (page.length !== Math.min(20, rows.length)) wrong.push(`${projection.name}: a first page of ${page.length} rows`);
        reads += 3;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    async stop() {
      stop = true;
      await done;
      return { reads, wrong };
    },
  };
}

describe('a rebuild while readers read (side by side)', () => {
  let dir: string;
  let store: EventStore;
  let head: bigint;
  let writer: SqliteReadStore;
  let reader: SqliteReadStore;
  let expected: Record<string, ReadModelRow[]>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'side-by-side-'));
    store = openSqliteEventStore({ path: join(dir, 'events.db') });
    head = (await appendAll(store, HISTORY))!;
    writer = openSqliteReadStore({ path: join(dir, 'read-models.db') });
    reader = openSqliteReadStore({ path: join(dir, 'read-models.db') });
    await new ProjectionRunner({ store, readStore: writer, projections: ALL_PROJECTIONS }).catchUp();
    expected = await snapshot(writer, ALL_PROJECTIONS);
  });

  afterAll(async () => {
    await reader.close();
    await writer.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never shows a reader a partial or missing read model, and ends with the same rows', async () => {
    const watching = continuousReader(reader, expected, head);
    const result = await rebuild({ store: yielding(store), readStore: writer, projections: ALL_PROJECTIONS, batchSize: BATCH_SIZE });
    const { reads, wrong } = await watching.stop();
    expect(result.batches).toBeGreaterThan(5);
    expect(reads).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
    expect(await snapshot(reader, ALL_PROJECTIONS)).toEqual(expected);
  });

  it('holds with the parallel rebuild (--workers) too', async () => {
    if (!existsSync(WORKER_SCRIPT)) throw new Error(`${WORKER_SCRIPT} is missing: run npm run build first (npm test does)`);
    const watching = continuousReader(reader, expected, head);
    await rebuildInParallel({ store, readStore: writer, projections: ALL_PROJECTIONS, workers: 2, batchSize: BATCH_SIZE, workerScript: WORKER_SCRIPT });
    const { reads, wrong } = await watching.stop();
    expect(reads).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
    expect(await snapshot(reader, ALL_PROJECTIONS)).toEqual(expected);
  });

  it('is what the reader would catch in a rebuild done in place (reset, then fold): the check can fail', async () => {
    const watching = continuousReader(reader, expected, head);
    for (const projection of ALL_PROJECTIONS) await writer.reset(projection.name);
    await new ProjectionRunner({ store: yielding(store), readStore: writer, projections: ALL_PROJECTIONS, batchSize: BATCH_SIZE }).catchUp();
    const { wrong } = await watching.stop();
    expect(wrong.length).toBeGreaterThan(0);
    expect(await snapshot(reader, ALL_PROJECTIONS)).toEqual(expected);
  });
});
