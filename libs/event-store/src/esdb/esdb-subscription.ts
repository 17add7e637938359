import type { AllStreamResolvedEvent } from './esdb-client';
import type { RecordedEvent, Subscription } from '../event-store.port';

/** What a subscription reads from: the client's `subscribeToAll` (a Readable), or a test double. */
export interface SubscriptionSource extends AsyncIterable<AllStreamResolvedEvent> {
  /** Cancels the server call. */
  unsubscribe(): Promise<void>;
  /** Releases the local stream (a Readable has it); a pending read then ends. */
  destroy?(): unknown;
}

export interface ReconnectingSubscriptionOptions {
  /** Exclusive; undefined is the start of the log. */
  readonly afterPosition: bigint | undefined;
  /** Opens a server subscription delivering the log after `afterPosition` (it may deliver some events again). */
  readonly connect: (afterPosition: bigint | undefined) => Promise<SubscriptionSource>;
  /** The ledger event a message carries, or undefined to skip the message. Throws for an event it cannot read. */
  readonly toEvent: (resolved: AllStreamResolvedEvent) => RecordedEvent | undefined;
  /** Failures after which the subscription reconnects; any other failure ends it (the next() rejects). */
  readonly isTransient: (error: unknown) => boolean;
  readonly reconnectDelayMs: (attempt: number) => number;
  /** Reconnections in a row without delivering an event (or staying connected `healthyConnectionMs`). */
  readonly maxReconnectAttempts: number;
  readonly healthyConnectionMs: number;
  readonly onClose: (subscription: ReconnectingSubscription) => void;
}

const CLOSED: unique symbol = Symbol('closed');
type Closed = typeof CLOSED;

/**
 * A catch-up-then-live subscription to EventStoreDB's $all that survives a dropped connection or a leader change.
 *
 * The server subscription already does catch-up and live in one call. What it does not do is come back: when the
 * connection drops (node restart, leader election, network), the client's stream errors and ends. This class then
 * opens a new server subscription after the last event it delivered, with a bounded, jittered backoff, and drops
 * anything at or before that position, so the caller sees every event once and in order across reconnections.
 */
export class ReconnectingSubscription implements Subscription {
  private closed = false;
  private source: SubscriptionSource | undefined;
  private signalClosed: () => void = () => undefined;
  private readonly closedSignal: Promise<Closed>;
  private readonly events: AsyncGenerator<RecordedEvent>;

  constructor(private readonly options: ReconnectingSubscriptionOptions) {
    this.closedSignal = new Promise((resolve) => {
      this.signalClosed = () => resolve(CLOSED);
    });
    this.events = this.run();
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this.events;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalClosed();
    this.options.onClose(this);
    await this.releaseSource();
  }

  private async *run(): AsyncGenerator<RecordedEvent> {
    let cursor = this.options.afterPosition;
    let attempt = 0;
    try {
      while (!this.closed) {
        let failure: unknown;
        let connectedAt: number | undefined;
        try {
          const source = await this.connect(cursor);
          if (source === CLOSED) return;
          connectedAt = Date.now();
          const iterator = source[Symbol.asyncIterator]();
          for (;;) {
            const step = await this.unlessClosed(iterator.next());
            if (step === CLOSED || step.done === true) break;
            const event = this.options.toEvent(step.value);
            // A new server subscription starts at or before the cursor: what was delivered is not delivered again.
            if (event === undefined || (cursor !== undefined && event.position <= cursor)) continue;
            cursor = event.position;
            attempt = 0;
            yield event;
            if (this.closed) return;
          }
        } catch (error) {
          failure = error;
        } finally {
          await this.releaseSource();
        }
        if (this.closed) return;
        if (failure !== undefined && !this.options.isTransient(failure)) throw failure;
        if (connectedAt !== undefined && Date.now() - connectedAt >= this.options.healthyConnectionMs) attempt = 0;
        attempt += 1;
        if (attempt > this.options.maxReconnectAttempts) {
          throw failure ?? new Error(`the EventStoreDB subscription ended ${attempt - 1} times in a row`);
        }
        await this.sleepUnlessClosed(this.options.reconnectDelayMs(attempt));
      }
    } finally {
      // Breaking out of a for-await loop lands here: release the subscription as close() would.
      await this.close();
    }
  }

  private async connect(cursor: bigint | undefined): Promise<SubscriptionSource | Closed> {
    const connecting = this.options.connect(cursor);
    const outcome = await this.unlessClosed(connecting);
    if (outcome === CLOSED) {
      // Closed while connecting: the server call may still open, and must then be cancelled.
      connecting.then(
        (late) => release(late),
        () => undefined,
      );
      return CLOSED;
    }
    this.source = outcome;
    return outcome;
  }

  /** Settles with the promise, or with CLOSED as soon as the subscription closes (a pending read never blocks close). */
  private unlessClosed<T>(promise: Promise<T>): Promise<T | Closed> {
    return Promise.race([promise, this.closedSignal]);
  }

  private async sleepUnlessClosed(delayMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const slept = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, delayMs);
    });
    await this.unlessClosed(slept);
    clearTimeout(timer);
  }

  private async releaseSource(): Promise<void> {
    const source = this.source;
    this.source = undefined;
    if (source !== undefined) await release(source);
  }
}

async function release(source: SubscriptionSource): Promise<void> {
  try {
    await source.unsubscribe();
  } catch {
    // The call is already gone (the failure that brought us here); there is nothing left to cancel.
  }
  source.destroy?.();
}

/** A source for a filter that matches nothing: it delivers nothing, and ends when unsubscribed. */
export function idleSource(): SubscriptionSource {
  let stop: () => void = () => undefined;
  const stopped = new Promise<IteratorResult<AllStreamResolvedEvent>>((resolve) => {
    stop = () => resolve({ done: true, value: undefined });
  });
  return {
    [Symbol.asyncIterator]: () => ({ next: () => stopped }),
    unsubscribe: async () => stop(),
  };
}

/** A source that delivers `leading` first, then what `source` delivers. */
export function withLeadingRecords(
  leading: readonly AllStreamResolvedEvent[],
  source: SubscriptionSource,
): SubscriptionSource {
  return {
    async *[Symbol.asyncIterator]() {
      yield* leading;
      yield* source;
    },
    unsubscribe: () => source.unsubscribe(),
    destroy: () => source.destroy?.(),
  };
}
