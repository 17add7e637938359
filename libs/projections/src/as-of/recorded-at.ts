import type { EventStore, RecordedEvent } from '@app/event-store';

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
