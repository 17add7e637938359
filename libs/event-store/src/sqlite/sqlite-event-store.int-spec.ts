import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandAlreadyRecordedError, DuplicateEventIdError, WrongExpectedRevisionError } from '../errors';
import type { AppendResult } from '../event-store.port';
import { verifyEventStore } from '../audit/verify';
import { describeEventStoreConformance } from '../testing/conformance';
import { anEvent } from '../testing/test-events';
import {
  MAX_APPENDS_PER_COMMIT,
  openSqliteEventStore,
  type SqliteEventStore,
  type SqliteEventStoreOptions,
} from './sqlite-event-store';
import { BUSY_TIMEOUT_MS, SCHEMA_VERSION } from './sqlite-schema';

function temporaryFolder(): string {
  return mkdtempSync(join(tmpdir(), 'event-store-sqlite-'));
}

/** Opens stores on files in one temporary folder, and closes and removes them all at the end. */
function storeFiles() {
  const folder = temporaryFolder();
  const opened: SqliteEventStore[] = [];
  return {
    folder,
    open(path = join(folder, 'ledger.db'), options: Omit<SqliteEventStoreOptions, 'path'> = {}): SqliteEventStore {
      const store = openSqliteEventStore({ ...options, path });
      opened.push(store);
      return store;
    },
    async cleanup(): Promise<void> {
      await Promise.all(opened.map((store) => store.close()));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describeEventStoreConformance('sqlite', async () => {
  const files = storeFiles();
  const path = join(files.folder, 'ledger.db');
  return { store: files.open(path), reopen: async () => files.open(path), cleanup: files.cleanup };
});

describe('SqliteEventStore', () => {
  let files: ReturnType<typeof storeFiles>;

  beforeEach(() => {
    files = storeFiles();
  });

  afterEach(async () => {
    await files.cleanup();
  });

  describe('the file', () => {
    it('creates missing folders and sets WAL, synchronous FULL, the busy timeout and the schema version', async () => {
      const path = join(files.folder, 'missing', 'deeper', 'ledger.db');
      const store = files.open(path);
      expect(store.connectionSettings()).toEqual({
        journalMode: 'wal',
        synchronous: 2,
        busyTimeoutMs: BUSY_TIMEOUT_MS,
        schemaVersion: SCHEMA_VERSION,
      });
      const raw = new Database(path, { readonly: true });
      try {
        // The journal mode and schema version live in the file, so another connection sees them too.
        expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
        const tables = raw.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
        expect(tables.map((table) => table.name)).toEqual(expect.arrayContaining(['events', 'streams', 'commands']));
      } finally {
        raw.close();
      }
    });

    it('reopens an existing file with its events, and refuses a file from a newer schema', async () => {
      const path = join(files.folder, 'ledger.db');
      const first = files.open(path);
      await first.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
      await first.close();
      expect(await files.open(path).streamRevision('s-1')).toBe(0n);

      const newer = join(files.folder, 'newer.db');
      await files.open(newer).close();
      const raw = new Database(newer);
      raw.pragma('user_version = 99');
      raw.close();
      expect(() => files.open(newer)).toThrow(/schema version 99/);
    });

    it('refuses to run without a file', () => {
      expect(() => openSqliteEventStore({ path: ':memory:' })).toThrow(/file path/);
      expect(() => openSqliteEventStore({ path: '' })).toThrow(/file path/);
    });
  });

  describe('group commit', () => {
    it('commits 100 concurrent appends to different streams in far fewer than 100 commits', async () => {
      const store = files.open();
      const before = store.commitCount;
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, index) => store.append(`s-${index}`, [anEvent()], { expectedRevision: 'no_stream' })),
      );
      expect(store.commitCount - before).toBeLessThan(10);
      expect(new Set(results.map((result) => result.position)).size).toBe(100);
      expect(await collect(store.readAll())).toHaveLength(100);
    });

    it('bounds a commit: more concurrent appends than one commit holds take several commits, in call order', async () => {
      const store = files.open();
      const count = MAX_APPENDS_PER_COMMIT + 88;
      const before = store.commitCount;
      const results = await Promise.all(
        Array.from({ length: count }, (_, index) => store.append(`s-${index}`, [anEvent()], { expectedRevision: 'any' })),
      );
      expect(store.commitCount - before).toBeGreaterThanOrEqual(2);
      expect(results.every((result, index) => index === 0 || result.position > results[index - 1]!.position)).toBe(true);
    });

    it("checks each queued append against the previous ones' effects, and fails only the wrong one", async () => {
      const store = files.open();
      const command = { key: 'k-1', requestHash: 'h-1' };
      const before = store.commitCount;
      const outcomes = await Promise.allSettled([
        store.append('s-1', [anEvent()], { expectedRevision: 'no_stream', command }),
        store.append('s-1', [anEvent(), anEvent()], { expectedRevision: 0n }),
        store.append('s-1', [anEvent()], { expectedRevision: 0n }),
        store.append('s-2', [anEvent()], { expectedRevision: 'no_stream', command }),
        store.append('s-1', [anEvent()], { expectedRevision: 2n }),
      ]);
      expect(store.commitCount - before).toBe(1);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
      const [, , stale, duplicateCommand, last] = outcomes;
      expect((stale as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
      expect((stale as PromiseRejectedResult).reason).toMatchObject({ actual: 2n });
      expect((duplicateCommand as PromiseRejectedResult).reason).toBeInstanceOf(CommandAlreadyRecordedError);
      expect((last as PromiseFulfilledResult<AppendResult>).value.nextRevision).toBe(3n);
      expect(await store.streamRevision('s-2')).toBeUndefined();
      expect(await collect(store.readStream('s-1'))).toHaveLength(4);
    });
  });

  describe('appends without reading first', () => {
    it('fall back to the full checks when a unique index refuses them: a retry is answered, a reused id refused', async () => {
      const store = files.open();
      const first = anEvent();
      const stored = await store.append('s-1', [first], { expectedRevision: 'no_stream' });
      // An exact retry of the stored append (any revision): the stored result, nothing written.
      await expect(store.append('s-1', [first], { expectedRevision: 'any' })).resolves.toEqual(stored);
      // The same id in another stream, or after other events: refused, and the batch's other append unharmed.
      const outcomes = await Promise.allSettled([
        store.append('s-2', [first], { expectedRevision: 'any' }),
        store.append('s-2', [anEvent(), first], { expectedRevision: 'any' }),
        store.append('s-3', [anEvent()], { expectedRevision: 'no_stream' }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
      expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEventIdError);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEventIdError);
      expect(await store.streamRevision('s-2')).toBeUndefined();
      expect((await collect(store.readAll())).map((event) => event.streamId)).toEqual(['s-1', 's-3']);
    });
  });

  describe('faults inside a group commit', () => {
    /** Makes SQLite itself fail the insert of any event of type Explode, as a disk or constraint fault would. */
    function openWithFault(raise: 'ABORT' | 'ROLLBACK'): SqliteEventStore {
      const path = join(files.folder, 'faulty.db');
      const store = files.open(path);
      const raw = new Database(path);
      raw.exec(`CREATE TRIGGER explode BEFORE INSERT ON events WHEN NEW.type = 'Explode'
                BEGIN SELECT RAISE(${raise}, 'injected fault'); END`);
      raw.close();
      return store;
    }

    it('undoes the events an append already wrote when a later insert of it fails, and keeps the others', async () => {
      const store = openWithFault('ABORT');
      const command = { key: 'k-1', requestHash: 'h-1' };
      const before = store.commitCount;
      const outcomes = await Promise.allSettled([
        store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' }),
        store.append('s-2', [anEvent(), anEvent(), anEvent('Explode')], { expectedRevision: 'no_stream', command }),
        store.append('s-3', [anEvent()], { expectedRevision: 'no_stream' }),
      ]);
      expect(store.commitCount - before).toBe(1);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'injected fault' });
      expect((await collect(store.readAll())).map((event) => event.streamId)).toEqual(['s-1', 's-3']);
      expect(await store.streamRevision('s-2')).toBeUndefined();
      expect(await store.findCommand('k-1')).toBeUndefined();
    });

    it('fails only the faulty append when it takes the path without reads (no idempotency record, known head)', async () => {
      const store = openWithFault('ABORT');
      await store.append('s-2', [anEvent()], { expectedRevision: 'no_stream' });
      const outcomes = await Promise.allSettled([
        store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' }),
        store.append('s-2', [anEvent('Explode')], { expectedRevision: 0n }),
        store.append('s-2', [anEvent(), anEvent('Explode')], { expectedRevision: 0n }),
        store.append('s-3', [anEvent()], { expectedRevision: 'no_stream' }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((await collect(store.readAll())).map((event) => `${event.streamId}@${event.revision}`)).toEqual(['s-2@0', 's-1@0', 's-3@0']);
      // The head it remembered is still right: the next append chains to revision 0.
      await expect(store.append('s-2', [anEvent()], { expectedRevision: 0n })).resolves.toMatchObject({ nextRevision: 1n });
      expect(await verifyEventStore(store)).toMatchObject({ ok: true });
    });

    it('rejects every append of the batch when the transaction itself is lost, and keeps working', async () => {
      const store = openWithFault('ROLLBACK');
      const outcomes = await Promise.allSettled([
        store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' }),
        store.append('s-2', [anEvent('Explode')], { expectedRevision: 'no_stream' }),
        store.append('s-3', [anEvent()], { expectedRevision: 'no_stream' }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(await store.headPosition()).toBeUndefined();
      await expect(store.append('s-1', [anEvent()], { expectedRevision: 'no_stream' })).resolves.toMatchObject({ nextRevision: 0n });
    });
  });

  describe('subscriptions', () => {
    it('are woken by commits of their own store, without waiting for the poll', async () => {
      // With an hour between polls, only the in-process wake-up can deliver the event before the test times out.
      const store = files.open(undefined, { subscriptionPollIntervalMs: 3_600_000 });
      const events = store.subscribe()[Symbol.asyncIterator]();
      const next = events.next();
      const appended = anEvent();
      await store.append('s-1', [appended], { expectedRevision: 'no_stream' });
      await expect(next).resolves.toMatchObject({ done: false, value: { eventId: appended.eventId } });
    });
  });

  describe('two connections on one file', () => {
    it("see each other's appends and keep the expected-revision check between them", async () => {
      const path = join(files.folder, 'shared.db');
      const [left, right] = [files.open(path), files.open(path)];
      await left.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
      expect(await right.streamRevision('s-1')).toBe(0n);
      await expect(right.append('s-1', [anEvent()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(
        WrongExpectedRevisionError,
      );
      await right.append('s-1', [anEvent()], { expectedRevision: 0n });
      expect(await left.streamRevision('s-1')).toBe(1n);

      const outcomes = await Promise.allSettled([
        left.append('s-1', [anEvent()], { expectedRevision: 1n }),
        right.append('s-1', [anEvent()], { expectedRevision: 1n }),
      ]);
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      const fromLeft = await collect(left.readAll());
      expect(fromLeft.map((event) => event.revision)).toEqual([0n, 1n, 2n]);
      expect(await collect(right.readAll())).toEqual(fromLeft);
    });

    it("chain each append to the other's, with heads remembered in memory (the hash chain verifies)", async () => {
      const path = join(files.folder, 'shared.db');
      const [left, right] = [files.open(path), files.open(path)];
      await left.append('s-1', [anEvent()], { expectedRevision: 'no_stream' });
      await left.append('s-1', [anEvent()], { expectedRevision: 0n });
      // right writes after left remembered the head at revision 1; left must notice and chain to right's event.
      await right.append('s-1', [anEvent()], { expectedRevision: 1n });
      await expect(left.append('s-1', [anEvent()], { expectedRevision: 1n })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await left.append('s-1', [anEvent()], { expectedRevision: 'any' });
      await left.append('s-1', [anEvent(), anEvent()], { expectedRevision: 3n });
      const events = await collect(left.readStream('s-1'));
      expect(events.map((event) => event.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
      events.slice(1).forEach((event, index) => expect(event.metadata.prevHash).toBe(events[index]!.metadata.hash));
      expect(await verifyEventStore(right)).toMatchObject({ ok: true, eventsChecked: 6 });
    });

    it("change a stream's change token when either of them appends to it, and only then", async () => {
      const path = join(files.folder, 'shared.db');
      const [left, right] = [files.open(path), files.open(path)];
      await left.append('platform', [anEvent()], { expectedRevision: 'no_stream' });
      const first = left.streamChangeToken('platform');
      expect(left.streamChangeToken('platform')).toBe(first);
      await left.append('account-1', [anEvent()], { expectedRevision: 'no_stream' });
      expect(left.streamChangeToken('platform')).toBe(first);
      await left.append('platform', [anEvent()], { expectedRevision: 0n });
      const second = left.streamChangeToken('platform');
      expect(second).not.toBe(first);
      await right.append('platform', [anEvent()], { expectedRevision: 1n });
      expect(left.streamChangeToken('platform')).not.toBe(second);
    });

    it("deliver one connection's appends to the other's subscription (by polling)", async () => {
      const path = join(files.folder, 'shared.db');
      const [left, right] = [files.open(path), files.open(path)];
      const events = left.subscribe()[Symbol.asyncIterator]();
      const next = events.next();
      const appended = anEvent();
      await right.append('s-1', [appended], { expectedRevision: 'no_stream' });
      await expect(next).resolves.toMatchObject({ done: false, value: { eventId: appended.eventId } });
    });
  });
});
