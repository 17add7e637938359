import type { CommandRecord, EventMetadata, RecordedEvent } from './event-store.port';

/*
 * The rows of the two SQL adapters have the same columns; only their integers come back differently (numbers from
 * better-sqlite3, text from pg), so each adapter passes its own checked conversion.
 */

/** Reads an integer column as a bigint, refusing a value that is not an exact integer. */
export type IntegerReader<Integer> = (value: Integer, what: string) => bigint;

export interface StoredEventRow<Integer> {
  readonly position: Integer;
  readonly event_id: string;
  readonly stream_id: string;
  readonly revision: Integer;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

export interface StoredCommandRow<Integer> {
  readonly key: string;
  readonly request_hash: string;
  readonly stream_id: string;
  readonly next_revision: Integer;
  readonly position: Integer;
  readonly event_ids: string;
}

export function recordedEventOf<Integer>(row: StoredEventRow<Integer>, toBigInt: IntegerReader<Integer>): RecordedEvent {
  return {
    streamId: row.stream_id,
    revision: toBigInt(row.revision, 'revision'),
    position: toBigInt(row.position, 'position'),
    eventId: row.event_id,
    type: row.type,
    data: JSON.parse(row.data) as unknown,
    metadata: JSON.parse(row.metadata) as EventMetadata,
  };
}

export function commandRecordOf<Integer>(row: StoredCommandRow<Integer>, toBigInt: IntegerReader<Integer>): CommandRecord {
  return {
    key: row.key,
    requestHash: row.request_hash,
    result: {
      streamId: row.stream_id,
      nextRevision: toBigInt(row.next_revision, 'revision'),
      position: toBigInt(row.position, 'position'),
      eventIds: JSON.parse(row.event_ids) as string[],
    },
  };
}
