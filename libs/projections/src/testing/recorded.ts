import { randomUUID } from 'node:crypto';
import { toIso, type DomainEvent } from '@app/domain';
import { eventsToAppend, GENESIS_HASH, type EventStore, type EventToAppend, type RecordedEvent } from '@app/event-store';
import { DateTime } from 'luxon';
import type { Projection, ReadModelRow } from '../projection';
import { normalizeIndex } from '../read-store.port';
import { RowCache } from '../row-cache';

/** A domain event placed in a stream, as a test writes its history. */
export interface Placed {
  readonly streamId: string;
  readonly event: DomainEvent;
  /** ISO instant; defaults to one second after the previous event. */
  readonly recordedAt?: string;
}

const START = DateTime.fromISO('2022-01-10T00:00:00Z', { zone: 'utc' });

/** Recorded events at positions 1, 2, ... (revisions counted per stream), without a store. */
export function recordAll(placed: readonly Placed[]): RecordedEvent[] {
  const revisions = new Map<string, bigint>();
  return placed.map((item, index) => {
    const revision = (revisions.get(item.streamId) ?? -1n) + 1n;
    revisions.set(item.streamId, revision);
    const recordedAt = item.recordedAt ?? toIso(START.plus({ seconds: index }));
    return {
      streamId: item.streamId,
      revision,
      position: BigInt(index + 1),
      eventId: randomUUID(),
      type: item.event.type,
      data: item.event.data,
      metadata: {
        commandId: `cmd-${index}`,
        correlationId: `cmd-${index}`,
        causationId: `cmd-${index}`,
        actor: { id: 'test', role: 'service' },
        recordedAt,
        schemaVersion: item.event.schemaVersion,
        prevHash: GENESIS_HASH,
        hash: GENESIS_HASH,
      },
    };
  });
}

/** Folds events through a projection as the runner does (its cache and codec), and returns the stored rows by key. */
export function foldRows(projection: Projection, events: readonly RecordedEvent[]): ReadModelRow[] {
  const cache = new RowCache(projection, Number.MAX_SAFE_INTEGER);
  cache.drop(true);
  for (const event of events) {
    if (!projection.handles.has(event.type)) continue;
    const missing = cache.fold(event);
    if (missing !== undefined) throw new Error(`a complete cache never misses (${missing})`);
  }
  const rows = [...cache.changes().values()].filter((row): row is ReadModelRow => row !== null);
  return rows
    .map((row) => ({ key: row.key, doc: JSON.parse(JSON.stringify(row.doc)) as unknown, index: normalizeIndex(row.index) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The docs of the rows under keys starting with a prefix. */
export function docsUnder(rows: readonly ReadModelRow[], prefix: string): unknown[] {
  return rows.filter((row) => row.key.startsWith(prefix)).map((row) => row.doc);
}

export function toAppend(item: Placed, index: number): EventToAppend {
  const commandId = `cmd-${index}`;
  const recordedAt = item.recordedAt ?? toIso(START.plus({ seconds: index }));
  const origin = { commandId, correlationId: commandId, causationId: commandId, actor: { id: 'test', role: 'service' }, recordedAt };
  return eventsToAppend([item.event], origin, () => randomUUID())[0]!;
}

/**
 * Appends events in order, many appends per turn of the event loop so that the SQLite store commits them together
 * (its appends queued in one turn are committed in queue order). Returns the position of the last one.
 */
export async function appendAll(store: EventStore, placed: readonly Placed[], firstIndex = 0, appendsPerCommit = 500): Promise<bigint | undefined> {
  let last: bigint | undefined;
  for (let start = 0; start < placed.length; start += appendsPerCommit) {
    const chunk = placed.slice(start, start + appendsPerCommit);
    const results = await Promise.all(
      chunk.map((item, offset) => store.append(item.streamId, [toAppend(item, firstIndex + start + offset)], { expectedRevision: 'any' })),
    );
    last = results[results.length - 1]!.position;
  }
  return last;
}
