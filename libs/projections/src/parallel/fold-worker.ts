import { parentPort, workerData } from 'node:worker_threads';
import type { RecordedEvent } from '@app/event-store';
import type { Projection, ReadModelRow } from '../projection';
import { ALL_PROJECTIONS } from '../read-models';
import { RowCache } from '../row-cache';
import { sliceOf } from './partition';
import type { FoldWorkerData, FromWorker, ToWorker, WireEvent } from './protocol';

/**
 * A fold worker (parallel-rebuild.ts): folds the events the main thread sends into its projections' write-through
 * caches, and hands over the changed rows when asked. It never touches a store: a row its cache has evicted is read
 * by the main thread, which commits everything.
 */
interface Part {
  readonly projection: Projection;
  readonly cache: RowCache;
  /** Null: every event; otherwise, by slice, whether this part folds the streams of that slice. */
  readonly slices: { readonly mine: readonly boolean[]; readonly count: number } | null;
}

const port = parentPort!;
const { parts: plan, maxCachedRows } = workerData as FoldWorkerData;
const byName = new Map(ALL_PROJECTIONS.map((projection) => [projection.name, projection]));
const parts: Part[] = plan.map(({ projection: name, slices }) => {
  const projection = byName.get(name);
  if (projection === undefined) throw new Error(`fold worker: no projection named ${name}`);
  // A part that folds some slices of the streams sees that share of the rows, and keeps that share of the cache.
  const share = slices === null ? 1 : slices.indexes.length / slices.count;
  const cache = new RowCache(projection, Math.max(1, Math.ceil(maxCachedRows * share)));
  // A rebuild starts from empty read models: a row the cache does not hold does not exist.
  cache.drop(true);
  const mine = slices === null ? null : { mine: Array.from({ length: slices.count }, (_, slice) => slices.indexes.includes(slice)), count: slices.count };
  return { projection, cache, slices: mine };
});

const loads = new Map<number, (row: ReadModelRow | undefined) => void>();
let nextLoad = 0;

function load(projection: string, key: string): Promise<ReadModelRow | undefined> {
  const id = (nextLoad += 1);
  return new Promise((resolve) => {
    loads.set(id, resolve);
    send({ kind: 'load', id, projection, key });
  });
}

function send(message: FromWorker): void {
  port.postMessage(message);
}

/**
 * What the main thread sends has no event id or metadata (reading them would cost a read per event): a projection
 * that reads them fails here, loudly, and cannot be folded in parallel until they are sent.
 */
class WorkerEvent implements RecordedEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly type: string;
  readonly data: unknown;

  constructor(wire: WireEvent) {
    this.streamId = wire.streamId;
    this.revision = wire.revision;
    this.position = wire.position;
    this.type = wire.type;
    this.data = wire.dataJson === undefined ? wire.data : (JSON.parse(wire.dataJson) as unknown);
  }

  get eventId(): never {
    throw new Error(`a projection read the id of event ${this.position}: fold workers do not receive it`);
  }

  get metadata(): never {
    throw new Error(`a projection read the metadata of event ${this.position}: fold workers do not receive it`);
  }
}

async function foldInto(part: Part, event: RecordedEvent): Promise<void> {
  let missing = part.cache.fold(event);
  while (missing !== undefined) {
    part.cache.load(missing, await load(part.projection.name, missing));
    missing = part.cache.fold(event);
  }
}

async function fold(events: readonly WireEvent[]): Promise<void> {
  for (const wire of events) {
    const event = new WorkerEvent(wire);
    for (const part of parts) {
      if (!part.projection.handles.has(event.type)) continue;
      if (part.slices !== null && !part.slices.mine[sliceOf(event.streamId, part.slices.count)]) continue;
      await foldInto(part, event);
    }
  }
  send({ kind: 'folded', dirtyRows: parts.reduce((sum, part) => sum + part.cache.dirtyCount, 0) });
}

/** Changed rows per message. */
const ROWS_PER_MESSAGE = 4_096;

function commit(): void {
  for (const part of parts) {
    const projection = part.projection.name;
    let changes: [string, ReadModelRow | null][] = [];
    for (const change of part.cache.changes()) {
      changes.push(change);
      if (changes.length === ROWS_PER_MESSAGE) {
        send({ kind: 'changes', projection, changes });
        changes = [];
      }
    }
    if (changes.length > 0) send({ kind: 'changes', projection, changes });
  }
  send({ kind: 'changes-sent' });
  // The main thread commits before it sends another event; a failed commit ends the rebuild, and this worker with it.
  for (const part of parts) part.cache.committed();
}

let work: Promise<void> = Promise.resolve();
port.on('message', (message: ToWorker) => {
  if (message.kind === 'loaded') {
    const resolve = loads.get(message.id);
    loads.delete(message.id);
    resolve?.(message.row);
    return;
  }
  // One message at a time, in order: a fold that waits for a row holds back the messages after it.
  work = work
    .then(() => (message.kind === 'events' ? fold(message.events) : commit()))
    .catch((error: unknown) => send({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }));
});
