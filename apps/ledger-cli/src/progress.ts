import type { AuditProgress } from '@app/event-store';

/**
 * Progress on stderr, never stdout (stdout carries the result or the JSONL). On a terminal: one bar redrawn in place.
 * Otherwise (a pipe, a CI log): a plain line at most every PLAIN_LINE_INTERVAL_MS. Nothing with --json.
 */
export type ProgressMode = 'bar' | 'lines' | 'silent';

/** A terminal redraws the bar at most this often; faster would only cost time. */
export const BAR_REDRAW_INTERVAL_MS = 100;
/** A log gets a line at most this often, so a long run leaves a readable trail rather than a flood. */
export const PLAIN_LINE_INTERVAL_MS = 2_000;
/** Widest bar in cells; narrower when the terminal is. */
export const BAR_MAX_CELLS = 30;
/** Terminal width assumed when the stream does not say. */
const DEFAULT_COLUMNS = 80;

/** The part of a stream the reporter uses: process.stderr, or a fake in tests. */
export interface ProgressStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressReporter {
  /** `total` is an estimate, or undefined when unknown (then no percentage). */
  update(done: number, total: number | undefined): void;
  /** Draws the final state (a bar ends its line); idempotent. */
  finish(): void;
}

export function progressModeFor(json: boolean, stream: ProgressStream): ProgressMode {
  if (json) return 'silent';
  return stream.isTTY === true ? 'bar' : 'lines';
}

export interface ProgressSettings {
  readonly mode: ProgressMode;
  readonly stream: ProgressStream;
  /** Milliseconds; injectable for tests. */
  readonly now?: () => number;
}

export function createProgress(label: string, settings: ProgressSettings): ProgressReporter {
  switch (settings.mode) {
    case 'silent':
      return { update: () => undefined, finish: () => undefined };
    case 'bar':
      return new BarProgress(label, settings.stream, settings.now ?? Date.now);
    case 'lines':
      return new LineProgress(label, settings.stream, settings.now ?? Date.now);
  }
}

/**
 * Feeds a verify or export walk into a reporter. The total is estimated from positions: the events done plus the
 * positions still ahead of the head, which is exact for a log without gaps and close otherwise.
 */
export function auditProgressListener(reporter: ProgressReporter, knownTotal?: number): (progress: AuditProgress) => void {
  return (progress) => {
    const remaining = progress.headPosition === undefined ? undefined : Number(progress.headPosition - progress.position);
    reporter.update(progress.events, knownTotal ?? (remaining === undefined ? undefined : progress.events + remaining));
  };
}

abstract class TimedProgress implements ProgressReporter {
  protected done = 0;
  protected total: number | undefined;
  protected lastDrawMs: number | undefined;
  private finished = false;
  private readonly startedMs: number;

  constructor(
    protected readonly label: string,
    protected readonly stream: ProgressStream,
    protected readonly now: () => number,
    private readonly intervalMs: number,
  ) {
    this.startedMs = now();
  }

  update(done: number, total: number | undefined): void {
    if (this.finished) return;
    this.done = done;
    this.total = total;
    const now = this.now();
    if (now - (this.lastDrawMs ?? this.startedMs) < this.intervalMs) return;
    this.lastDrawMs = now;
    this.draw();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.drawFinal();
  }

  protected abstract draw(): void;
  protected abstract drawFinal(): void;

  protected counts(): string {
    const total = this.total === undefined ? '' : `/${Math.max(this.total, this.done)}`;
    return `${this.done}${total} events`;
  }

  /** Whole percent, held below 100 until the walk is done, since the total is an estimate. */
  protected percent(): number | undefined {
    if (this.total === undefined || this.total <= 0) return undefined;
    return Math.min(Math.floor((this.done * 100) / this.total), this.finished ? 100 : 99);
  }

  protected rate(): string {
    const seconds = (this.now() - this.startedMs) / 1_000;
    return seconds <= 0 ? '' : `${Math.round(this.done / seconds)}/s`;
  }
}

/** `verify: 120000/1000000 events (12%), 48000/s`. */
class LineProgress extends TimedProgress {
  constructor(label: string, stream: ProgressStream, now: () => number) {
    super(label, stream, now, PLAIN_LINE_INTERVAL_MS);
  }

  protected draw(): void {
    const percent = this.percent();
    const rate = this.rate();
    this.stream.write(`${this.label}: ${this.counts()}${percent === undefined ? '' : ` (${percent}%)`}${rate === '' ? '' : `, ${rate}`}\n`);
  }

  /** A short run prints nothing; a long one, which already left lines, ends with the final count. */
  protected drawFinal(): void {
    if (this.lastDrawMs !== undefined) this.draw();
  }
}

/** `verify [█████░░░░░░░░░] 12% 120000/1000000 events 48000/s`, redrawn in place. */
class BarProgress extends TimedProgress {
  constructor(label: string, stream: ProgressStream, now: () => number) {
    super(label, stream, now, BAR_REDRAW_INTERVAL_MS);
  }

  protected draw(): void {
    // A pseudo-terminal without a window size reports 0 columns.
    const columns = this.stream.columns !== undefined && this.stream.columns > 0 ? this.stream.columns : DEFAULT_COLUMNS;
    const percent = this.percent();
    const tail = [percent === undefined ? '' : `${String(percent).padStart(3)}%`, this.counts(), this.rate()].filter((part) => part !== '').join(' ');
    const cells = Math.min(BAR_MAX_CELLS, columns - this.label.length - tail.length - 5);
    const bar = percent === undefined || cells < 5 ? '' : ` [${'█'.repeat(Math.floor((cells * percent) / 100)).padEnd(cells, '░')}]`;
    // \r returns to the line's start and \x1b[K clears what a longer previous line left; one column stays free so
    // that the terminal never wraps.
    this.stream.write(`\r${`${this.label}${bar} ${tail}`.slice(0, columns - 1)}\x1b[K`);
  }

  protected drawFinal(): void {
    this.draw();
    this.stream.write('\n');
  }
}
