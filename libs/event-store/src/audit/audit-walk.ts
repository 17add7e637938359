import type { RecordedEvent } from '../event-store.port';

/** How far a walk over the log (verify, export) has come; reported every PROGRESS_EVERY_EVENTS events and at the end. */
export interface AuditProgress {
  /** Position of the last event processed. */
  readonly position: bigint;
  /** The log's last position when the walk started; the walk stops there. Undefined for an empty log. */
  readonly headPosition: bigint | undefined;
  /** Events processed so far. */
  readonly events: number;
}

export interface AuditWalkOptions {
  onProgress?(progress: AuditProgress): void;
  /** Aborting ends the walk at the next event by throwing the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Progress is reported this often (in events); callers throttle further by time, as a progress bar needs. */
export const PROGRESS_EVERY_EVENTS = 1_000;

/**
 * A walk hands the event loop back this often (in events). The SQLite adapter reads synchronously, so a long walk
 * would otherwise starve timers, signal handlers (Ctrl-C) and, inside the API server, every other request.
 */
export const YIELD_EVERY_EVENTS = 1_000;

/** Counts the events of one walk, reports progress and yields to the event loop at the bounds above. */
export class AuditWalk {
  private count = 0;
  private lastPosition: bigint | undefined;

  constructor(
    readonly headPosition: bigint | undefined,
    private readonly options: AuditWalkOptions,
  ) {}

  get events(): number {
    return this.count;
  }

  /** Throws the abort reason when the caller has given up (Ctrl-C in the CLI, a closed HTTP request). */
  checkAborted(): void {
    this.options.signal?.throwIfAborted();
  }

  /** Records one processed event; yields to the event loop now and then. */
  async advance(event: RecordedEvent): Promise<void> {
    this.count += 1;
    this.lastPosition = event.position;
    if (this.count % PROGRESS_EVERY_EVENTS === 0) this.report();
    if (this.count % YIELD_EVERY_EVENTS === 0) await yieldToEventLoop();
  }

  /** The final report, so that a progress display ends on the true count. */
  finish(): void {
    if (this.count % PROGRESS_EVERY_EVENTS !== 0) this.report();
  }

  private report(): void {
    if (this.lastPosition === undefined) return;
    this.options.onProgress?.({ position: this.lastPosition, headPosition: this.headPosition, events: this.count });
  }
}

/** Lets timers, I/O callbacks and signal handlers run before the walk goes on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
