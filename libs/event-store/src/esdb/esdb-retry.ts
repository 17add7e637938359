import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientError } from './esdb-mapping';

/**
 * How long a request is retried after transient failures. A leader election takes seconds (gossip timeouts, then
 * the vote), so the window is sized to outlast one: a retry sends the same request again, which is safe because
 * every write is idempotent (an exact expected revision with deterministic event ids) and every read is resumed
 * after what it already delivered.
 */
export interface RetryPolicy {
  /** Retries stop once this much time has passed since the request (or its last progress) started. */
  readonly windowMs: number;
  /** And after this many attempts, whatever the time. */
  readonly maxAttempts: number;
  /** The wait before retry `attempt` (1-based). */
  readonly delayMs: (attempt: number) => number;
}

export const DEFAULT_RETRY_WINDOW_MS = 30_000;
export const MAX_RETRY_ATTEMPTS = 100;

/** The retries one request has left. */
export class RetryBudget {
  private attempt = 0;
  private startedAt = Date.now();

  constructor(private readonly policy: RetryPolicy) {}

  /** The request made progress (a read delivered records): the window starts again. */
  progressed(): void {
    this.attempt = 0;
    this.startedAt = Date.now();
  }

  /** Waits before the next attempt after `error`; rethrows it when it is not transient or the budget is spent. */
  async retryAfter(error: unknown): Promise<void> {
    this.attempt += 1;
    const delay = this.policy.delayMs(this.attempt);
    const spent = Date.now() - this.startedAt + delay > this.policy.windowMs;
    if (!isTransientError(error) || this.attempt >= this.policy.maxAttempts || spent) throw error;
    await sleep(delay);
  }
}
