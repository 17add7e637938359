import Database from 'better-sqlite3';
import { join } from 'node:path';

/**
 * What the disk under the bench allows, measured in the same run: plain better-sqlite3 on a fresh file in WAL mode
 * with synchronous = FULL, no ledger code. A single-row commit is the ceiling of "one command awaited after
 * another" (each must be durable before the next starts); the same on the event store's own schema (an event row
 * with its two unique indexes, the stream head, the position sequence) is the ceiling of the ledger's commit.
 */
export interface DiskFigures {
  /** One row (300 bytes of text) per commit, on a table with no index. */
  readonly singleRowCommitsPerSecond: number;
  /** One event per commit on the event store's schema (what a sequential command writes). */
  readonly eventCommitsPerSecond: number;
  /** 100 rows per commit, on a table with no index. */
  readonly rowsPerSecondAt100PerCommit: number;
  /** 64 events per commit on the event store's schema, 64 streams (what 64 commands in flight write). */
  readonly eventsPerSecondAt64PerCommit: number;
}

const COMMITS = 2_000;
const BATCHED_ROWS = 20_000;

const EVENT_SCHEMA = `
  CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
    revision INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, UNIQUE (stream_id, revision));
  CREATE TABLE streams (stream_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, last_hash TEXT NOT NULL) WITHOUT ROWID;`;

function open(path: string, schema: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('wal_autocheckpoint = 4000');
  db.exec(schema);
  return db;
}

/** Rows per second when `rowsPerCommit` rows written by `write(i)` share each durable commit. */
function measure(db: Database.Database, total: number, rowsPerCommit: number, write: (i: number) => void): number {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const startedMs = performance.now();
  for (let i = 0; i < total; i += rowsPerCommit) {
    begin.run();
    for (let j = i; j < i + rowsPerCommit; j += 1) write(j);
    commit.run();
  }
  return Math.round(total / ((performance.now() - startedMs) / 1_000));
}

function plainTable(folder: string, name: string, total: number, rowsPerCommit: number): number {
  const db = open(join(folder, name), 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  try {
    const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
    const value = 'x'.repeat(300);
    return measure(db, total, rowsPerCommit, () => insert.run(value));
  } finally {
    db.close();
  }
}

function eventTable(folder: string, name: string, total: number, rowsPerCommit: number): number {
  const db = open(join(folder, name), EVENT_SCHEMA);
  try {
    const insert = db.prepare<[string, string, number, string, string, string]>(
      'INSERT INTO events (event_id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const head = db.prepare<[string, number, string]>(
      `INSERT INTO streams (stream_id, revision, last_hash) VALUES (?, ?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, last_hash = excluded.last_hash`,
    );
    const data = 'd'.repeat(180);
    const metadata = 'm'.repeat(420);
    const hash = 'h'.repeat(64);
    const revisions = new Map<string, number>();
    return measure(db, total, rowsPerCommit, (i) => {
      const stream = `account-disk-${String(i % 500).padStart(5, '0')}`;
      const revision = (revisions.get(stream) ?? -1) + 1;
      revisions.set(stream, revision);
      // Time-ordered ids, as the ledger's are: the event id index grows at its right edge.
      const id = `${Date.now().toString(16).padStart(12, '0')}-${String(i).padStart(23, '0')}`;
      insert.run(id, stream, revision, 'WithdrawalRequested', data, metadata);
      head.run(stream, revision, hash);
    });
  } finally {
    db.close();
  }
}

export function measureDisk(folder: string): DiskFigures {
  return {
    singleRowCommitsPerSecond: plainTable(folder, 'disk-single.db', COMMITS, 1),
    eventCommitsPerSecond: eventTable(folder, 'disk-event-single.db', COMMITS, 1),
    rowsPerSecondAt100PerCommit: plainTable(folder, 'disk-batched.db', BATCHED_ROWS, 100),
    eventsPerSecondAt64PerCommit: eventTable(folder, 'disk-event-batched.db', BATCHED_ROWS - (BATCHED_ROWS % 64), 64),
  };
}
