import { EventStoreClosedError, EventStoreError } from '../errors';
import type { RecordedEvent } from '../event-store.port';
import { messageOf } from './chain-checker';

/** How a walk reads: the log by position, or one stream by revision. `from` is inclusive. */
export interface ReadCursor {
  /** "position" or "revision": what `from` counts, for messages. */
  readonly unit: 'position' | 'revision';
  read(from: bigint, maxCount?: number): AsyncIterable<RecordedEvent>;
  keyOf(event: RecordedEvent): bigint;
}

/** An event the adapter could not decode. `key` is its position or revision when that could be pinned down. */
export interface UnreadableEvent {
  readonly kind: 'unreadable';
  /** The event is the first stored one at or after this position or revision. */
  readonly from: bigint;
  /** True when the event is known to sit exactly at `from`. */
  readonly exact: boolean;
  readonly message: string;
}

export type ReadItem = { readonly kind: 'event'; readonly event: RecordedEvent } | UnreadableEvent;

/**
 * After a failed page, events are read one at a time for at most this many events, then paging resumes. It must
 * exceed an adapter's page (the SQLite adapter reads 1,000 rows a page) so that the failing row is reached.
 */
export const DIAGNOSIS_WINDOW_EVENTS = 10_000;

/**
 * Reads events in order and, when the adapter throws while decoding, pins down the event that cannot be read.
 *
 * An adapter may decode a whole page before yielding any of it (the SQLite adapter does), so one unreadable event
 * would hide every event before it in that page. On a failure the reader therefore re-reads one event at a time
 * from the last event it delivered: the events before the broken one are still delivered (and checked), and the
 * broken one is reported where it lies. This assumes an adapter reads no more than `maxCount` events when given one.
 *
 * A closed store or a refused read (EventStoreError: bad read options) is a fault, not evidence of tampering, and is
 * rethrown; so is a failure that one-at-a-time reads cannot reproduce (it was not about an event).
 */
export async function* readDiagnosing(cursor: ReadCursor, start: bigint): AsyncGenerator<ReadItem> {
  let next = start;
  for (;;) {
    let pageError: unknown;
    try {
      for await (const event of cursor.read(next)) {
        yield { kind: 'event', event };
        next = cursor.keyOf(event) + 1n;
      }
      return;
    } catch (error) {
      rethrowFault(error);
      pageError = error;
    }
    for (let read = 0; read < DIAGNOSIS_WINDOW_EVENTS; read += 1) {
      let event: RecordedEvent | undefined;
      try {
        event = await firstOf(cursor.read(next, 1));
      } catch (error) {
        rethrowFault(error);
        yield { kind: 'unreadable', from: next, exact: await isExactlyAt(cursor, next), message: messageOf(error) };
        return;
      }
      // Every event up to the end read fine one at a time: the paged failure was not about an event.
      if (event === undefined) throw pageError;
      yield { kind: 'event', event };
      next = cursor.keyOf(event) + 1n;
    }
  }
}

/**
 * Reading one event from `from` failed, so the first stored event at or after `from` is unreadable. If reading one
 * event from `from + 1` succeeds (or finds nothing), that event cannot lie after `from`: it is exactly at `from`.
 */
async function isExactlyAt(cursor: ReadCursor, from: bigint): Promise<boolean> {
  try {
    await firstOf(cursor.read(from + 1n, 1));
    return true;
  } catch (error) {
    rethrowFault(error);
    return false;
  }
}

/** Where an unreadable event lies, for a person: "the event at position 7 of stream x". */
export function describeUnreadable(item: UnreadableEvent, unit: ReadCursor['unit'], streamId: string | undefined): string {
  const where = item.exact ? `the event at ${unit} ${item.from}` : `the first event at or after ${unit} ${item.from}`;
  return `${where}${streamId === undefined ? '' : ` of stream ${streamId}`} cannot be read: ${item.message}`;
}

/** Thrown by a walk that cannot go on past an unreadable event (an export); verification reports it instead. */
export class UnreadableEventError extends Error {
  readonly code = 'UNREADABLE_EVENT';
  constructor(readonly event: UnreadableEvent, unit: ReadCursor['unit'], streamId: string | undefined) {
    super(describeUnreadable(event, unit, streamId));
    this.name = 'UnreadableEventError';
  }
}

async function firstOf(events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent | undefined> {
  for await (const event of events) return event;
  return undefined;
}

function rethrowFault(error: unknown): void {
  if (error instanceof EventStoreClosedError || error instanceof EventStoreError) throw error;
}
