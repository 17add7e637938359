import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { storedDataJson, type RecordedEvent } from '@app/event-store';
import type { ReadModelRow } from '../projection';
import { BULK_BATCH_SIZE, DEFAULT_MAX_CACHED_ROWS, MAX_BATCH_SIZE, MAX_DIRTY_ROWS, type CatchUpResult } from '../projection-runner';
import type { ProjectionCommit } from '../read-store.port';
import type { RebuildOptions } from '../replay';
import { ALL_PROJECTIONS } from '../read-models';
import { planPartitions, sliceOf, type PartPlan, type WorkerPlan } from './partition';
import type { FoldWorkerData, FromWorker, PartChanges, ToWorker, WireEvent } from './protocol';
import { rebuildSideBySide } from '../side-by-side';

/** Events per message to a worker: large enough that posting costs little per event. */
const CHUNK_EVENTS = 2_048;
/** Messages of events a worker may have queued: the main thread waits beyond it, so memory stays bounded. */
const MAX_CHUNKS_IN_FLIGHT = 4;
export const MAX_FOLD_WORKERS = 16;
const WORKER_YOUNG_GENERATION_MB = 32;

export interface ParallelRebuildOptions extends RebuildOptions {
  /** Fold workers (threads); each projection split by stream is split over all of them. */
  readonly workers: number;
  /** The compiled fold-worker.js; the one beside this file when absent (the tests, which run the sources, pass dist's). */
  readonly workerScript?: string;
}

/** Which workers fold an event: those folding a projection that handles it whole, and the owners of its stream's slice. */
class Router {
  private readonly byType = new Map<string, { readonly whole: number[]; readonly owners: number[][] }>();
  private readonly sliceCount: number;
  private readonly marked: boolean[];

  constructor(plans: readonly WorkerPlan[], handles: ReadonlyMap<string, ReadonlySet<string>>) {
    this.marked = plans.map(() => false);
    this.sliceCount = plans.flatMap((plan) => plan.parts).find((part) => part.slices !== null)?.slices?.count ?? 1;
    const ownersOf = new Map<string, number[]>();
    plans.forEach((plan, worker) => {
      for (const part of plan.parts) {
        if (part.slices !== null) {
          const owners = ownersOf.get(part.projection) ?? [];
          for (const slice of part.slices.indexes) owners[slice] = worker;
          ownersOf.set(part.projection, owners);
        }
        for (const type of handles.get(part.projection)!) {
          const route = this.byType.get(type) ?? { whole: [], owners: [] };
          if (part.slices === null && !route.whole.includes(worker)) route.whole.push(worker);
          this.byType.set(type, route);
        }
      }
    });
    for (const [projection, owners] of ownersOf) {
      for (const type of handles.get(projection)!) this.byType.get(type)!.owners.push(owners);
    }
  }

  /** Calls `each` once per worker that folds the event. */
  route(event: RecordedEvent, each: (worker: number) => void): void {
    const route = this.byType.get(event.type);
    if (route === undefined) return;
    const { marked } = this;
    for (const worker of route.whole) marked[worker] = true;
    if (route.owners.length > 0) {
      const slice = sliceOf(event.streamId, this.sliceCount);
      for (const owners of route.owners) marked[owners[slice]!] = true;
    }
    for (let worker = 0; worker < marked.length; worker += 1) {
      if (!marked[worker]) continue;
      marked[worker] = false;
      each(worker);
    }
  }
}

/** One fold worker as the main thread drives it. */
class FoldWorker {
  private readonly worker: Worker;
  private readonly parts: readonly PartPlan[];
  private buffer: WireEvent[] = [];
  private inFlight = 0;
  private waitingForRoom: (() => void) | undefined;
  private changesInto: ((part: PartChanges) => void) | undefined;
  private waitingForChanges: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  dirtyRows = 0;

  constructor(script: string, data: FoldWorkerData, private readonly load: (projection: string, key: string) => Promise<ReadModelRow | undefined>) {
    this.parts = data.parts;
    // A young generation as large as the main thread's usually is: folding allocates a short-lived doc per event.
    this.worker = new Worker(script, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    let fail!: (error: Error) => void;
    this.failed = new Promise<never>((_resolve, reject) => (fail = reject));
    this.failed.catch(() => undefined);
    const onFailure = (error: Error): void => {
      this.failure ??= error;
      fail(this.failure);
      this.waitingForRoom?.();
    };
    this.worker.on('error', onFailure);
    this.worker.on('exit', (code) => onFailure(new Error(`fold worker exited with code ${code}`)));
    this.worker.on('message', (message: FromWorker) => this.receive(message, onFailure));
  }

  /** Queues an event; resolves at once unless the worker is too far behind. */
  push(event: RecordedEvent): Promise<void> | undefined {
    const { streamId, revision, position, type } = event;
    // The stored JSON text when the store offers it: the worker parses it, this thread neither parses nor clones it.
    const dataJson = storedDataJson(event);
    this.buffer.push({ streamId, revision, position, type, dataJson, data: dataJson === undefined ? event.data : undefined });
    return this.buffer.length >= CHUNK_EVENTS ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.buffer.length > 0) {
      this.post({ kind: 'events', events: this.buffer });
      this.buffer = [];
      this.inFlight += 1;
    }
    while (this.inFlight >= MAX_CHUNKS_IN_FLIGHT) {
      await new Promise<void>((resolve) => (this.waitingForRoom = resolve));
      this.throwIfFailed();
    }
  }

  /** Hands `into` the rows changed since the last commit, once everything sent has been folded. */
  async changes(into: (part: PartChanges) => void): Promise<void> {
    await this.flush();
    this.changesInto = into;
    const sent = new Promise<void>((resolve) => (this.waitingForChanges = resolve));
    this.post({ kind: 'commit' });
    await Promise.race([sent, this.failed]);
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  describe(): string {
    return this.parts.map((part) => (part.slices ? `${part.projection} (${part.slices.indexes.length} of ${part.slices.count} slices)` : part.projection)).join(', ');
  }

  private receive(message: FromWorker, onFailure: (error: Error) => void): void {
    switch (message.kind) {
      case 'folded':
        this.inFlight -= 1;
        this.dirtyRows = message.dirtyRows;
        this.waitingForRoom?.();
        this.waitingForRoom = undefined;
        return;
      case 'changes':
        this.changesInto?.(message);
        return;
      case 'changes-sent':
        this.dirtyRows = 0;
        this.changesInto = undefined;
        this.waitingForChanges?.();
        this.waitingForChanges = undefined;
        return;
      case 'load':
        this.load(message.projection, message.key).then(
          (row) => this.post({ kind: 'loaded', id: message.id, row }),
          (error: unknown) => onFailure(error instanceof Error ? error : new Error(String(error))),
        );
        return;
      case 'failed':
        onFailure(new Error(`fold worker (${this.describe()}): ${message.message}`));
        return;
    }
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

/**
 * `rebuild`, with the folding on worker threads (`node:worker_threads`): the main thread reads the log once and
 * sends each worker the events it folds; a projection split by stream (balances, reimbursements, protection claims)
 * is folded by every worker for its own share of the streams, the others each by one worker. Each batch ends as
 * the single-threaded rebuild's does: every worker hands over the rows it changed, and the main thread commits
 * every projection's rows and checkpoint in ONE transaction, so the read models are as consistent after an
 * interruption, and the same rows as `rebuild` writes (a test compares them on one log). Only the ledger's own
 * projections (ALL_PROJECTIONS, which the workers load by name) can be folded this way.
 */
export function rebuildInParallel(options: ParallelRebuildOptions): Promise<CatchUpResult> {
  // Side by side, as `rebuild`: readers keep the read models in use until the rebuilt ones take their place.
  return rebuildSideBySide(options.readStore, options.projections, (staged) => foldInParallel({ ...options, readStore: staged }));
}

async function foldInParallel(options: ParallelRebuildOptions): Promise<CatchUpResult> {
  const { store, readStore, projections, workers } = options;
  const batchSize = options.batchSize ?? BULK_BATCH_SIZE;
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_FOLD_WORKERS) throw new RangeError(`workers must be from 1 to ${MAX_FOLD_WORKERS}, got ${workers}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) throw new RangeError(`batchSize must be from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`);
  for (const projection of projections) {
    if (!ALL_PROJECTIONS.includes(projection)) throw new RangeError(`projection ${projection.name} is not one of the ledger's: fold workers cannot load it`);
  }
  for (const projection of projections) await readStore.reset(projection.name);
  const head = await store.headPosition();
  if (head === undefined) return { position: null, eventsRead: 0, batches: 0 };

  const handles = new Map(projections.map((projection) => [projection.name, projection.handles]));
  const script = options.workerScript ?? join(__dirname, 'fold-worker.js');
  const maxCachedRows = options.maxCachedRows ?? DEFAULT_MAX_CACHED_ROWS;
  const plans = planPartitions(projections, workers);
  const router = new Router(plans, handles);
  const pool = plans.map((plan) => new FoldWorker(script, { parts: plan.parts, maxCachedRows }, (projection, key) => readStore.get(projection, key)));
  const filter = { eventTypes: [...new Set(projections.flatMap((projection) => [...projection.handles]))].sort() };
  let checkpoint: bigint | undefined;
  let eventsRead = 0;
  let batches = 0;
  try {
    while ((checkpoint ?? 0n) < head) {
      let read = 0;
      let last = checkpoint ?? 0n;
      let passedHead = false;
      let stoppedEarly = false;
      for await (const event of store.readAll({ fromPosition: last + 1n, maxCount: batchSize, filter, metadataOnAccess: true })) {
        if (event.position > head) {
          passedHead = true;
          break;
        }
        read += 1;
        last = event.position;
        let full: Promise<void>[] | undefined;
        router.route(event, (worker) => {
          const waiting = pool[worker]!.push(event);
          if (waiting !== undefined) (full ??= []).push(waiting);
        });
        if (full !== undefined) await Promise.all(full);
        if (read % CHUNK_EVENTS === 0 && pool.reduce((sum, worker) => sum + worker.dirtyRows, 0) >= MAX_DIRTY_ROWS) {
          stoppedEarly = true;
          break;
        }
      }
      const end = !stoppedEarly && (passedHead || read < batchSize) ? head : last;
      const changes = new Map<string, Map<string, ReadModelRow | null>>(projections.map((projection) => [projection.name, new Map()]));
      const collect = (part: PartChanges): void => {
        const into = changes.get(part.projection)!;
        // A projection split by stream: its parts write disjoint keys.
        for (const [key, row] of part.changes) into.set(key, row);
      };
      await Promise.all(pool.map((worker) => worker.changes(collect)));
      const commits: ProjectionCommit[] = projections.map((projection) => ({
        projection: projection.name,
        version: projection.version,
        from: checkpoint,
        to: end,
        changes: changes.get(projection.name)!,
      }));
      await readStore.commitMany(commits);
      checkpoint = end;
      eventsRead += read;
      batches += 1;
      options.onProgress?.({ position: end, targetPosition: head, eventsRead });
      // Timers and signals get their turn between batches (a synchronous store never yields inside readAll).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { position: checkpoint ?? null, eventsRead, batches };
  } finally {
    await Promise.all(pool.map((worker) => worker.close()));
  }
}
