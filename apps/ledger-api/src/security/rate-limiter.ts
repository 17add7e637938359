/** Clients tracked at once by one limiter; beyond it, the entry idle longest is forgotten first. */
const MAX_TRACKED = 10_000;

export interface RateDecision {
  readonly allowed: boolean;
  /** Requests the client may still send at once. */
  readonly remaining: number;
  /** Whole seconds until the client may send again (refused) or until its allowance is full again (allowed). */
  readonly resetSeconds: number;
}

/**
 * `limit` requests per `windowMs` per client, as the generic cell rate algorithm (GCRA): one number per client (the
 * theoretical arrival time of its next request), so a decision is a few arithmetic operations and no allocation,
 * whatever the limit. A client may spend its whole allowance in one burst, then one request per `windowMs / limit`.
 */
export class RateLimiter {
  private readonly arrivals = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly burstMs: number;

  constructor(
    readonly limit: number,
    private readonly windowMs = 1_000,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('rate limiter: limit must be a positive whole number');
    this.intervalMs = windowMs / limit;
    this.burstMs = windowMs - this.intervalMs;
  }

  take(client: string): RateDecision {
    const now = this.nowMs();
    const previous = this.arrivals.get(client);
    const arrival = previous === undefined || previous < now ? now : previous;
    const early = arrival - now;
    if (early > this.burstMs) {
      return { allowed: false, remaining: 0, resetSeconds: Math.max(1, Math.ceil((early - this.burstMs) / 1_000)) };
    }
    const next = arrival + this.intervalMs;
    if (previous === undefined) {
      // Under a flood of new clients the one idle longest is forgotten (and may burst again): memory stays bounded.
      if (this.arrivals.size >= MAX_TRACKED) this.arrivals.delete(this.arrivals.keys().next().value!);
    } else {
      // Kept in order of last use, so that the first entry is the one idle longest.
      this.arrivals.delete(client);
    }
    this.arrivals.set(client, next);
    const used = next - now;
    return {
      allowed: true,
      remaining: Math.max(0, Math.floor((this.windowMs - used) / this.intervalMs)),
      resetSeconds: Math.ceil(used / 1_000),
    };
  }
}
