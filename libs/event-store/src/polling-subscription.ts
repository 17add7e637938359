import { assertBound, assertReadOptions } from './append-validation';
import type { EventFilter, ReadAllOptions, RecordedEvent, SubscribeOptions, Subscription } from './event-store.port';

/** Rows fetched by one read query; a read never holds more than a page of the log in memory. */
export const READ_PAGE_SIZE = 1_000;
/** Positions one filtered log query looks at, so a rare filter never turns one query into a scan of the log. */
export const SCAN_WINDOW_POSITIONS = 10_000;

const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** setTimeout fires at once for delays beyond 2^31 - 1 ms, which would turn polling into a busy loop. */
export function assertPollInterval(pollIntervalMs: number): void {
  if (!Number.isSafeInteger(pollIntervalMs) || pollIntervalMs <= 0 || pollIntervalMs > MAX_TIMER_DELAY_MS) {
    throw new Error(`subscriptionPollIntervalMs must be from 1 to ${MAX_TIMER_DELAY_MS}, got ${pollIntervalMs}`);
  }
}

/** One page of the committed log after a position, as an adapter reads it for a subscription. */
export interface LogPage {
  /** Matching events in position order. */
  readonly events: readonly RecordedEvent[];
  /** The last position this read looked at (matching or not); the next read starts after it. */
  readonly scannedThrough: bigint;
  /** True when the read reached the head of the log, so the subscription may wait for new commits. */
  readonly reachedHead: boolean;
}

export interface PollingSubscriptionOptions {
  readonly afterPosition: bigint;
  /** Reads the next page of matching committed events after a position. */
  readonly readPage: (afterPosition: bigint) => LogPage | Promise<LogPage>;
  /** The fallback for commits the adapter is not told about (another process writing the same log). */
  readonly pollIntervalMs: number;
  readonly onClose: (subscription: PollingSubscription) => void;
}

/**
 * A subscription that reads the committed log page by page from a position cursor, then waits for a signal
 * (`notify`, called by the adapter after each commit) or the poll interval, and reads again.
 *
 * Catch-up and live are the same loop, so there is no hand-over to get wrong: every event is delivered exactly
 * once and in position order, provided the adapter only makes a position visible after every smaller one is.
 */
export class PollingSubscription implements Subscription {
  private closed = false;
  /** Set by notify(); cleared before each read, so a commit during an asynchronous read is never missed. */
  private signalled = false;
  private wake: (() => void) | undefined;
  private readonly events: AsyncGenerator<RecordedEvent>;

  constructor(private readonly options: PollingSubscriptionOptions) {
    this.events = this.run(options.afterPosition);
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this.events;
  }

  /** Tells the subscription that new events may have been committed. */
  notify(): void {
    this.signalled = true;
    this.wake?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.onClose(this);
    // A pending next() is waiting for a signal: wake it so that it sees the close and ends the iteration.
    this.wake?.();
  }

  private async *run(afterPosition: bigint): AsyncGenerator<RecordedEvent> {
    let cursor = afterPosition;
    try {
      while (!this.closed) {
        this.signalled = false;
        const page = await this.options.readPage(cursor);
        for (const event of page.events) {
          if (this.closed) return;
          if (event.position <= cursor) throw new Error(`subscription invariant broken: position ${event.position} after ${cursor}`);
          cursor = event.position;
          yield event;
        }
        if (page.scannedThrough > cursor) cursor = page.scannedThrough;
        if (page.reachedHead && !this.signalled && !this.closed) await this.waitForSignal();
      }
    } finally {
      // Breaking out of a for-await loop lands here: release the subscription as close() would.
      await this.close();
    }
  }

  private waitForSignal(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.options.pollIntervalMs);
      this.wake = done;
    });
  }
}

/**
 * Reads the next page of committed events after a position that match the filter, at most `limit` of them; with
 * `metadataOnAccess`, an adapter may leave event ids and metadata to be read on access (ReadAllOptions).
 */
export type LogPageReader = (
  afterPosition: bigint,
  filter: EventFilter | undefined,
  limit: number,
  metadataOnAccess: boolean,
) => LogPage | Promise<LogPage>;

/**
 * readAll for an adapter that reads its log a page at a time (SQLite, PostgreSQL): from `fromPosition`
 * (inclusive) until the head or `maxCount` events, pages of at most READ_PAGE_SIZE. The store's state and the
 * options are checked first, when the iteration starts, as they are in an async generator of the adapter's own.
 */
export async function* readLogPages(
  assertReadable: () => void,
  readPage: LogPageReader,
  options: ReadAllOptions,
): AsyncGenerator<RecordedEvent> {
  assertReadable();
  assertBound('fromPosition', options.fromPosition);
  assertReadOptions(options.maxCount, options.filter);
  const { filter, metadataOnAccess = false } = options;
  let after = (options.fromPosition ?? 0n) - 1n;
  let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
  while (remaining > 0) {
    const page = await readPage(after, filter, Math.min(READ_PAGE_SIZE, remaining), metadataOnAccess);
    // for-of rather than yield*: about half the cost per event in an async generator.
    for (const event of page.events) yield event;
    if (page.reachedHead) return;
    remaining -= page.events.length;
    after = page.scannedThrough;
  }
}

/**
 * subscribe for such an adapter: the store's state and the options checked, then a PollingSubscription over its
 * pages (of READ_PAGE_SIZE, with metadata), kept in `open` (so that a commit can notify it and close can end it)
 * until it closes.
 */
export function subscribeToLogPages(
  assertReadable: () => void,
  readPage: LogPageReader,
  options: SubscribeOptions,
  pollIntervalMs: number,
  open: Set<PollingSubscription>,
): PollingSubscription {
  assertReadable();
  assertBound('afterPosition', options.afterPosition);
  assertReadOptions(undefined, options.filter);
  const filter = options.filter;
  const subscription = new PollingSubscription({
    // Positions start at 1, so "after 0" is the start of the log.
    afterPosition: options.afterPosition ?? 0n,
    readPage: (after) => readPage(after, filter, READ_PAGE_SIZE, false),
    pollIntervalMs,
    onClose: (closed) => open.delete(closed),
  });
  open.add(subscription);
  return subscription;
}
