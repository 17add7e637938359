import { DuplicateEventIdError } from './errors';
import type { AppendResult, ExpectedRevision } from './event-store.port';
import type { PreparedAppend } from './append-validation';

/*
 * What the SQLite and PostgreSQL adapters share on their write path: the queue of appends waiting for a commit,
 * the bounds of one batch, how a batch's appends are settled, and the checks each append keeps inside the batch.
 * How a batch is committed (one synchronous transaction with savepoints, or one locked transaction that is run
 * again without a failed write) stays each adapter's own.
 */

/** Group commit bounds: one commit holds at most this many appends and (unless one append is larger) events. */
export const MAX_APPENDS_PER_COMMIT = 512;
export const MAX_EVENTS_PER_COMMIT = 10_000;

/** An append waiting for the commit that will hold it. */
export interface PendingAppend {
  readonly append: PreparedAppend;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** One append's own success or failure inside a batch. */
export type AppendOutcome = { readonly ok: true; readonly result: AppendResult } | { readonly ok: false; readonly error: unknown };

/** The appends made and not yet committed, oldest first; committed in that order, a bounded batch at a time. */
export class AppendQueue {
  private pending: PendingAppend[] = [];

  get length(): number {
    return this.pending.length;
  }

  /** Queues an append; the promise settles once the commit that holds it has returned (see settleBatch). */
  enqueue(append: PreparedAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ append, resolve, reject });
    });
  }

  /**
   * The oldest appends, as many as fit in one commit: at most MAX_APPENDS_PER_COMMIT, and no more than
   * MAX_EVENTS_PER_COMMIT events unless the first append alone holds more (it still goes, on its own).
   */
  takeBatch(): PendingAppend[] {
    let count = 0;
    let events = 0;
    while (count < this.pending.length && count < MAX_APPENDS_PER_COMMIT) {
      const size = this.pending[count]!.append.events.length;
      if (count > 0 && events + size > MAX_EVENTS_PER_COMMIT) break;
      events += size;
      count += 1;
    }
    return this.pending.splice(0, count);
  }
}

/** Settles each append of a committed batch with its own outcome (outcomes in batch order). */
export function settleBatch(batch: readonly PendingAppend[], outcomes: readonly AppendOutcome[]): void {
  batch.forEach((pending, index) => {
    const outcome = outcomes[index]!;
    if (outcome.ok) pending.resolve(outcome.result);
    else pending.reject(outcome.error);
  });
}

/** Fails every append of a batch whose transaction was lost or whose commit failed. */
export function rejectBatch(batch: readonly PendingAppend[], error: unknown): void {
  for (const pending of batch) pending.reject(error);
}

/** Whether a stream at `current` (undefined: no events) satisfies the expected revision of an append. */
export function revisionMatches(expected: ExpectedRevision, current: bigint | undefined): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === undefined;
    case 'stream_exists':
      return current !== undefined;
    default:
      return current === expected;
  }
}

/** Where an event id is stored: its stream, revision and position. */
export interface StoredEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
}

/**
 * When the events are already stored, as consecutive revisions of this stream in this order, this is a retry of an
 * append that succeeded: its result, without writing. Any other overlap is refused with DuplicateEventIdError (the
 * unique index on event ids is what makes deduplication durable; this check turns it into a typed answer).
 * Undefined when none of the events is stored.
 */
export function storedAppend(
  streamId: string,
  eventIds: readonly string[],
  storedAt: (eventId: string) => StoredEvent | undefined,
): AppendResult | DuplicateEventIdError | undefined {
  const stored = eventIds.map(storedAt);
  const firstStoredIndex = stored.findIndex((event) => event !== undefined);
  if (firstStoredIndex === -1) return undefined;
  const first = stored[0];
  const isRetry =
    first !== undefined &&
    stored.every((event, index) => event !== undefined && event.streamId === streamId && event.revision === first.revision + BigInt(index));
  if (!isRetry) return new DuplicateEventIdError(eventIds[firstStoredIndex]!);
  const last = stored[stored.length - 1]!;
  return { streamId, nextRevision: last.revision, position: last.position, eventIds: [...eventIds] };
}
