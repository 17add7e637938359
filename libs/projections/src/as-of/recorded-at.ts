import type { EventStore, RecordedEvent } from '@app/event-store';
import type { SnapshotMark } from '../read-store.port';

/** Events a scan reads between two turns of the event loop: a synchronous store (SQLite) never yields by itself. */
const SCAN_YIELD_EVERY = 10_000;

export function recordedAtMs(event: RecordedEvent): number {
  const recordedMs = Date.parse(event.metadata.recordedAt);
  if (Number.isNaN(recordedMs)) throw new Error(`event at ${event.position} has no valid recordedAt`);
  return recordedMs;
}

/**
 * The latest recordedAt (ms) of every event after `after` up to `upTo`, folded onto `startMs` (the high-water of the
 * prefix up to `after`). Every event is read, handled by a projection or not: recordedAt need not grow with the
 * position (a clock stepped back, a scenario recorded with past instants), so no subset would do.
 */
export async function recordedAtHighWater(store: EventStore, after: bigint, upTo: bigint, startMs: number | undefined): Promise<number> {
  let highWaterMs = startMs;
  let read = 0;
  for await (const event of store.readAll({ fromPosition: after + 1n })) {
    if (event.position > upTo) break;
    const recordedMs = recordedAtMs(event);
    if (highWaterMs === undefined || recordedMs > highWaterMs) highWaterMs = recordedMs;
    read += 1;
    if (read % SCAN_YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (highWaterMs === undefined) throw new Error(`no event up to position ${upTo} to take a recordedAt high-water from`);
  return highWaterMs;
}

/**
 * Where a search for "the log as of an instant" may start: the last mark whose whole prefix was recorded by the
 * instant, so that a scan from the start would pass it. The scan then stops at or before the next mark, whose
 * prefix holds an event recorded later, so it reads at most the events between two snapshots (or after the last).
 * Marks of every projection and version serve: a high-water is a fact of the log, not of a read model.
 */
export function searchStart(marks: readonly SnapshotMark[], limitMs: number): bigint | undefined {
  let after: bigint | undefined;
  for (const mark of marks) {
    if (mark.recordedAtHighWaterMs <= limitMs && (after === undefined || mark.position > after)) after = mark.position;
  }
  return after;
}

/**
 * The last position of the log's prefix whose events were all recorded at or before `limitMs`, scanning from just
 * after `after` (whose prefix is known to be recorded by then) and stopping at the first event recorded later.
 */
export async function scanPositionAsOf(store: EventStore, limitMs: number, after: bigint | undefined): Promise<bigint | undefined> {
  let last = after;
  let read = 0;
  for await (const event of store.readAll({ fromPosition: (after ?? 0n) + 1n })) {
    if (recordedAtMs(event) > limitMs) break;
    last = event.position;
    read += 1;
    if (read % SCAN_YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return last;
}
