import { escapeLiteral } from 'pg';
import type { CommandRecord, RecordedEvent } from '../event-store.port';
import { commandRecordOf, recordedEventOf, type StoredCommandRow, type StoredEventRow } from '../stored-rows';
import type { BatchState, StoredEvent, StreamHead } from './postgres-append-decision';
import { NOTIFICATION_CHANNEL } from './postgres-notifications';
import { APPEND_LOCK_CLASS, qualified, schemaLockKey } from './postgres-schema';

/** How long a write transaction waits for another writer's append lock before the batch fails. */
export const APPEND_LOCK_TIMEOUT_MS = 10_000;

/*
 * Every integer is read as text and parsed to bigint here, whatever type parsers other code set on `pg`; and
 * every ORDER BY names the table's column (e.x), not the text output column of the same name.
 */

export type EventRow = StoredEventRow<string>;

/** A row of the log page query: the log head, and an event when one matched (all null otherwise). */
export type LogPageRow = { readonly head: string | null } & { readonly [K in keyof EventRow]: EventRow[K] | null };

export function holdsEvent(row: LogPageRow): row is LogPageRow & EventRow {
  return row.position !== null;
}

export type CommandRow = StoredCommandRow<string>;

/** The batch state query's one row; the lists are JSON arrays of arrays of strings. */
export interface BatchStateRow {
  readonly log_head: string | null;
  readonly heads: string;
  readonly stored: string;
  readonly commands: string;
}

export type Statements = ReturnType<typeof statements>;

export function statements(schema: string) {
  const events = qualified(schema, 'events');
  const streams = qualified(schema, 'streams');
  const commands = qualified(schema, 'commands');
  const eventColumns =
    'e.position::text AS position, e.event_id::text AS event_id, e.stream_id, e.revision::text AS revision, e.type, e.data, e.metadata';
  const insertEvents = `INSERT INTO ${events} (position, event_id, stream_id, revision, type, data, metadata)
    SELECT e.position, e.event_id, $1::text, e.revision, e.type, e.data, e.metadata
    FROM unnest($2::bigint[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[])
      AS e (position, event_id, revision, type, data, metadata)`;
  return {
    // One round trip: the transaction, a bounded wait for the lock, and the lock (all literals, no input).
    beginAndLock: `BEGIN ISOLATION LEVEL READ COMMITTED;
      SET LOCAL lock_timeout = ${APPEND_LOCK_TIMEOUT_MS};
      SELECT pg_advisory_xact_lock(${APPEND_LOCK_CLASS}, ${schemaLockKey(schema)})`,
    // The notification is delivered to listeners only when (and if) the transaction commits.
    notifyAndCommit: `SELECT pg_notify(${escapeLiteral(NOTIFICATION_CHANNEL)}, ${escapeLiteral(schema)}); COMMIT`,
    // Everything the batch's checks need, from one snapshot taken after the lock: the log head, the heads of
    // the batch's streams, which of its event ids are stored, and which of its command keys are recorded.
    batchState: `SELECT
      (SELECT max(position)::text FROM ${events}) AS log_head,
      (SELECT coalesce(json_agg(json_build_array(stream_id, revision::text, last_hash)), '[]')::text
         FROM ${streams} WHERE stream_id = ANY($1::text[])) AS heads,
      (SELECT coalesce(json_agg(json_build_array(event_id::text, stream_id, revision::text, position::text)), '[]')::text
         FROM ${events} WHERE event_id = ANY($2::uuid[])) AS stored,
      (SELECT coalesce(json_agg(json_build_array(key, request_hash, stream_id, next_revision::text, position::text, event_ids)), '[]')::text
         FROM ${commands} WHERE key = ANY($3::text[])) AS commands`,
    insertEvents,
    // The last (usually only) INSERT of an append also moves the stream head and writes the command record,
    // in one round trip; data-modifying CTEs always run to completion.
    insertEventsAndHead: `WITH inserted AS (${insertEvents} RETURNING 1),
      head AS (
        INSERT INTO ${streams} (stream_id, revision, last_hash) VALUES ($1::text, $8::bigint, $9::text)
        ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, last_hash = excluded.last_hash
        RETURNING 1),
      command AS (
        INSERT INTO ${commands} (key, request_hash, stream_id, next_revision, position, event_ids)
        SELECT $10::text, $11::text, $1::text, $8::bigint, $12::bigint, $13::text WHERE $10::text IS NOT NULL
        RETURNING 1)
      SELECT (SELECT count(*) FROM inserted)::integer AS inserted`,
    streamForwards: `SELECT ${eventColumns} FROM ${events} AS e
      WHERE e.stream_id = $1 AND e.revision >= $2::bigint ORDER BY e.revision ASC LIMIT $3`,
    streamBackwards: `SELECT ${eventColumns} FROM ${events} AS e
      WHERE e.stream_id = $1 AND e.revision <= $2::bigint ORDER BY e.revision DESC LIMIT $3`,
    // The head and the page from one snapshot. The position range ($1, min($2, head)] keeps the query on the
    // primary key; the filters only look at that window. The LEFT JOIN returns the head even when no event matches.
    logPage: `SELECT h.head::text AS head, page.position, page.event_id, page.stream_id, page.revision, page.type,
             page.data, page.metadata
      FROM (SELECT max(position) AS head FROM ${events}) AS h
      LEFT JOIN LATERAL (
        SELECT e.position AS sort_position, ${eventColumns} FROM ${events} AS e
        WHERE e.position > $1::bigint AND e.position <= least($2::bigint, h.head)
          AND ($3::text[] IS NULL OR e.type = ANY($3::text[]))
          AND ($4::text[] IS NULL OR EXISTS (
            SELECT 1 FROM unnest($4::text[]) AS prefix (value) WHERE starts_with(e.stream_id, prefix.value)))
        ORDER BY e.position ASC LIMIT $5) AS page ON true
      ORDER BY page.sort_position ASC`,
    logHead: `SELECT max(position)::text AS position FROM ${events}`,
    streamRevision: `SELECT revision::text AS revision FROM ${streams} WHERE stream_id = $1`,
    command: `SELECT key, request_hash, stream_id, next_revision::text AS next_revision, position::text AS position, event_ids
      FROM ${commands} WHERE key = $1`,
  };
}

// ---- rows to values -------------------------------------------------------------------------------------------

const DECIMAL_INTEGER = /^-?[0-9]+$/;

/** An int8 read as text. */
export function toBigInt(value: string, what: string): bigint {
  if (typeof value !== 'string' || !DECIMAL_INTEGER.test(value)) {
    throw new Error(`${what} ${String(value)} read from PostgreSQL is not an integer`);
  }
  return BigInt(value);
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return recordedEventOf(row, toBigInt);
}

export function toCommandRecord(row: CommandRow): CommandRecord {
  return commandRecordOf(row, toBigInt);
}

export function toBatchState(row: BatchStateRow): BatchState {
  const heads = new Map<string, StreamHead>();
  for (const [streamId, revision, lastHash] of tuples(row.heads, 3, 'stream heads')) {
    heads.set(streamId, { revision: toBigInt(revision, 'revision'), lastHash });
  }
  const storedEvents = new Map<string, StoredEvent>();
  for (const [eventId, streamId, revision, position] of tuples(row.stored, 4, 'stored events')) {
    storedEvents.set(eventId, { streamId, revision: toBigInt(revision, 'revision'), position: toBigInt(position, 'position') });
  }
  const commands = new Map<string, CommandRecord>();
  for (const [key, request_hash, stream_id, next_revision, position, event_ids] of tuples(row.commands, 6, 'commands')) {
    commands.set(key, toCommandRecord({ key, request_hash, stream_id, next_revision, position, event_ids }));
  }
  const logHead = row.log_head === null ? 0n : toBigInt(row.log_head, 'position');
  return { nextPosition: logHead + 1n, heads, storedEvents, commands };
}

/** Parses a JSON array of `width`-string arrays, as the batch state query builds them. */
function tuples(json: string, width: number, what: string): string[][] {
  const parsed: unknown = JSON.parse(json);
  const valid =
    Array.isArray(parsed) &&
    parsed.every((tuple) => Array.isArray(tuple) && tuple.length === width && tuple.every((item) => typeof item === 'string'));
  if (!valid) throw new Error(`the ${what} read from PostgreSQL are malformed`);
  return parsed as string[][];
}
