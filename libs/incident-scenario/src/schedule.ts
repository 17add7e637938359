import type { DateTime } from 'luxon';
import type { ManualClock } from '@app/ledger';

/** Commands in flight at once within one instant: enough for group commit to batch them, bounded all the same. */
export const MAX_STEPS_IN_FLIGHT = 512;

interface Step {
  readonly at: DateTime;
  readonly atMs: number;
  readonly phase: string;
  /** The account the step works on; null for platform, incident and price steps, which run alone. */
  readonly lane: string | null;
  readonly estimatedEvents: number;
  readonly run: () => Promise<unknown>;
  /** The step may send a second-factor proof (a withdrawal request, a whitelisting). */
  readonly mayProve: boolean;
}

/**
 * The scenario's steps in time order. Steps at the same instant on different accounts run concurrently (so that the
 * store's group commit batches them); steps of one account run in the order they were added; a step without an
 * account runs alone, after everything added before it at that instant. Steps of different phases at one instant
 * run one phase after the other, so that onPhase always names the phase of the steps running. The clock is set to
 * each instant first, so the log is in time order (an as-of replay relies on it). No step reads a real clock or waits
 * on a timer, so the interleaving, and with it the log, is the same on every run.
 *
 * Signing and verifying a proof (jose, on node's thread pool) ends when the thread pool says, not in a fixed order:
 * two such steps side by side could reach the store in either order. So, while `proofsRequired()` holds, a step that
 * may send a proof runs alone too, after everything added before it at its instant.
 */
export class Schedule {
  private readonly steps: Step[] = [];

  constructor(private readonly proofsRequired: () => boolean = () => false) {}

  at(at: DateTime, phase: string, lane: string | null, estimatedEvents: number, run: () => Promise<unknown>, options: { mayProve?: boolean } = {}): void {
    this.steps.push({ at, atMs: at.toMillis(), phase, lane, estimatedEvents, run, mayProve: options.mayProve ?? false });
  }

  get estimatedEvents(): number {
    return this.steps.reduce((sum, step) => sum + step.estimatedEvents, 0);
  }

  /** Plays every step; an abort (SIGINT in the CLI) stops it between two instants. */
  async play(clock: ManualClock, onPhase: (phase: string) => void, signal?: AbortSignal): Promise<void> {
    // Array.prototype.sort is stable: steps at one instant keep the order they were added in.
    const ordered = [...this.steps].sort((a, b) => a.atMs - b.atMs);
    for (let start = 0; start < ordered.length; ) {
      signal?.throwIfAborted();
      const first = ordered[start]!;
      let end = start;
      while (end < ordered.length && ordered[end]!.atMs === first.atMs && ordered[end]!.phase === first.phase) end += 1;
      clock.set(first.at);
      onPhase(first.phase);
      await playInstant(ordered.slice(start, end), this.proofsRequired);
      start = end;
    }
  }
}

async function playInstant(steps: readonly Step[], proofsRequired: () => boolean): Promise<void> {
  let lanes = new Map<string, Step[]>();
  for (const step of steps) {
    // Asked step by step: a platform step earlier in this instant may have just turned the requirement on.
    if (step.lane !== null && !(step.mayProve && proofsRequired())) {
      const lane = lanes.get(step.lane);
      if (lane) lane.push(step);
      else lanes.set(step.lane, [step]);
      continue;
    }
    await playLanes(lanes);
    lanes = new Map();
    await step.run();
  }
  await playLanes(lanes);
}

/** Each lane's steps in order; lanes side by side, at most MAX_STEPS_IN_FLIGHT at once; the first failure stops it. */
async function playLanes(lanes: ReadonlyMap<string, readonly Step[]>): Promise<void> {
  const queue = [...lanes.values()];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < queue.length) {
      const lane = queue[next++]!;
      try {
        for (const step of lane) await step.run();
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_STEPS_IN_FLIGHT, queue.length) }, worker));
}
