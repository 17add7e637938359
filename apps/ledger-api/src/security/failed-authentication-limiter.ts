/** Failed authentications one client address may make per window before it is refused without a key check. */
export const FAILED_AUTHENTICATIONS_PER_WINDOW = 20;
export const FAILED_AUTHENTICATION_WINDOW_MS = 60_000;
/** Client addresses tracked at once; the oldest window is forgotten first, so memory stays bounded under a flood. */
const MAX_TRACKED_CLIENTS = 10_000;

interface Window {
  readonly startedAtMs: number;
  failures: number;
}

/**
 * Limits wrong keys per client address, and runs before the key check: checking a wrong secret for a generated key
 * costs a scrypt, so without this a client could spend the server's CPU (and guess keys) as fast as it can send.
 * A missing key costs nothing and is not counted. Once over the limit, an address is refused (429) whatever key it
 * presents until its window ends: the limiter cannot tell a right key from a wrong one without the check it saves.
 */
export class FailedAuthenticationLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit = FAILED_AUTHENTICATIONS_PER_WINDOW,
    private readonly windowMs = FAILED_AUTHENTICATION_WINDOW_MS,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** How long the client must wait before its next attempt is checked; 0 when it may try now. */
  retryAfterMs(client: string): number {
    const window = this.current(client);
    if (window === undefined || window.failures < this.limit) return 0;
    return window.startedAtMs + this.windowMs - this.nowMs();
  }

  recordFailure(client: string): void {
    const window = this.current(client);
    if (window !== undefined) {
      window.failures += 1;
      return;
    }
    if (this.windows.size >= MAX_TRACKED_CLIENTS) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(client, { startedAtMs: this.nowMs(), failures: 1 });
  }

  private current(client: string): Window | undefined {
    const window = this.windows.get(client);
    if (window === undefined) return undefined;
    if (this.nowMs() - window.startedAtMs < this.windowMs) return window;
    this.windows.delete(client);
    return undefined;
  }
}
