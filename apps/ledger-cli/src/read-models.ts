import { setImmediate as eventLoopTurn } from 'node:timers/promises';
import { YIELD_EVERY_EVENTS, type EventStore, type RecordedEvent } from '@app/event-store';
import { ALL_PROJECTIONS, type CatchUpProgress, type Projection, type ProjectionLogger } from '@app/projections';
import { messageOf } from './cli-errors';
import type { ProgressReporter } from './progress';

/** One projection (a name parseProjectionName accepted), or every one when none is named. */
export function selectProjections(name: string | undefined): readonly Projection[] {
  return name === undefined ? ALL_PROJECTIONS : ALL_PROJECTIONS.filter((projection) => projection.name === name);
}

/**
 * Feeds a catch-up (project --once, rebuild) into a progress reporter, counted in log positions from where it
 * started, and ends it on SIGINT/SIGTERM: the runner calls onProgress after each batch has committed, so the abort
 * thrown here stops it between two batches, with rows and checkpoints as that commit left them.
 */
export function catchUpListener(reporter: ProgressReporter, signal: AbortSignal, fromPosition: bigint): (progress: CatchUpProgress) => void {
  return (progress) => {
    reporter.update(Number(progress.position - fromPosition), Number(progress.targetPosition - fromPosition));
    signal.throwIfAborted();
  };
}

/** The lowest stored checkpoint of the projections (0 when one has none): where a runner resumes. */
export function lowestPosition(positions: ReadonlyArray<bigint | null>): bigint {
  let lowest: bigint | undefined;
  for (const position of positions) {
    if (lowest === undefined || (position ?? 0n) < lowest) lowest = position ?? 0n;
  }
  return lowest ?? 0n;
}

/** The most memory the process has held so far, in MB (maxRSS is in KiB). */
export function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

export function secondsSince(startedMs: number): number {
  return (performance.now() - startedMs) / 1_000;
}

/** Events per second, whole; 0 when no time has passed. */
export function perSecond(count: bigint | number, seconds: number): number {
  return seconds <= 0 ? 0 : Math.round(Number(count) / seconds);
}

/** The runner's log lines (a checkpoint conflict, a failed batch it retries) on stderr, named after the command. */
export function stderrLogger(command: string): ProjectionLogger {
  return {
    log: (message) => void process.stderr.write(`${command}: ${message}\n`),
    error: (message, error) => void process.stderr.write(`${command}: ${message}${error === undefined ? '' : `: ${messageOf(error)}`}\n`),
  };
}

/**
 * The store, its readAll handing the event loop back at the start of each read and every YIELD_EVERY_EVENTS
 * events, with each event shown to onEvent first. The SQLite adapter reads synchronously and the projection runner
 * folds synchronously, so without this a catch-up of the whole log never lets a signal handler (Ctrl-C, SIGTERM) or
 * a timer (the progress display) run until it is over. The runner reads one batch per readAll call.
 */
export function yieldingStore(store: EventStore, onEvent: (event: RecordedEvent) => void = () => undefined): EventStore {
  return {
    append: (streamId, events, options) => store.append(streamId, events, options),
    readStream: (streamId, options) => store.readStream(streamId, options),
    readAll: (options) => yieldingEvents(store.readAll(options), onEvent),
    subscribe: (options) => store.subscribe(options),
    streamRevision: (streamId) => store.streamRevision(streamId),
    findCommand: (key) => store.findCommand(key),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
}

async function* yieldingEvents(events: AsyncIterable<RecordedEvent>, onEvent: (event: RecordedEvent) => void): AsyncGenerator<RecordedEvent> {
  await eventLoopTurn();
  let count = 0;
  for await (const event of events) {
    onEvent(event);
    yield event;
    count += 1;
    if (count % YIELD_EVERY_EVENTS === 0) await eventLoopTurn();
  }
}
