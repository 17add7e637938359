import { CheckpointIssuer, loadOrCreateCheckpointKey, MerkleTreeJob, systemClock } from '@app/ledger';
import { ALL_PROJECTIONS, catchUpMerkleTree, ProjectionRunner, type ProjectionStatus, type ReadStore } from '@app/projections';
import { Command, Option } from 'nest-commander';
import { ExitCode, InterruptedError } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { flagOption } from '../options';
import type { ProgressReporter } from '../progress';
import { catchUpListener, lowestPosition, perSecond, secondsSince, stderrLogger, yieldingStore } from '../read-models';

/** How often the live projector looks at its checkpoints to draw the catch-up's progress. */
const STATUS_POLL_MS = 250;

interface ProjectCommandOptions {
  /** Catch up to the head and exit, rather than follow the log until a signal. */
  readonly once: boolean;
}

interface ProjectSummary {
  readonly startPosition: bigint;
  readonly position: bigint;
  readonly headPosition: bigint | null;
  readonly elapsedMs: number;
  readonly stoppedBy: NodeJS.Signals | null;
}

/**
 * `ledger project [--once] [--json]`: the projection runner alone, for an API started with
 * LEDGER_PROJECTOR=off. It catches up from the stored checkpoints, then follows the log until SIGINT or SIGTERM,
 * which stop it after the batch it is folding has committed (exit 0). Each batch's rows and checkpoint are one
 * transaction, so a projector killed outright (kill -9, a power cut) loses nothing either: the next one folds the
 * uncommitted batch again.
 */
@Command({
  name: 'project',
  description: 'keep the read models current: catch up, then follow the log until SIGINT or SIGTERM (exit 0)',
})
export class ProjectCommand extends LedgerCommand<ProjectCommandOptions> {
  @Option({ flags: '--once', description: 'catch up to the head, then exit (for scripts); a signal stops it between two batches' })
  parseOnce(): boolean {
    return true;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): ProjectCommandOptions {
    return { once: flagOption(raw, 'once') };
  }

  protected async execute(options: ProjectCommandOptions, context: CommandContext): Promise<number> {
    const readStore = await context.openReadStore('create');
    try {
      const runner = new ProjectionRunner({ store: yieldingStore(context.store), readStore, projections: ALL_PROJECTIONS, logger: stderrLogger('project'), asOfSnapshotEvery: context.config.asOfSnapshotEvery });
      const summary = options.once ? await catchUpOnce(runner, readStore, context) : await followUntilSignal(runner, readStore, context);
      await context.printResult({ text: describeSummary(summary, options.once), json: summaryView(summary) });
    } finally {
      await readStore.close();
    }
    return ExitCode.OK;
  }
}

async function catchUpOnce(runner: ProjectionRunner, readStore: ReadStore, context: CommandContext): Promise<ProjectSummary> {
  const startedMs = performance.now();
  const startPosition = lowestPosition((await runner.status()).map((status) => status.position));
  const progress = context.progress('project');
  try {
    await runner.catchUp({ onProgress: catchUpListener(progress, context.signal, startPosition) });
    // The Merkle tree over the log is kept by whoever keeps the read models.
    await catchUpMerkleTree(context.store, readStore, { signal: context.signal });
    return summaryOf(startPosition, await runner.status(), startedMs, null);
  } finally {
    progress.finish();
  }
}

/** Live: the runner catches up in the background, then follows the log; the first signal stops it. */
async function followUntilSignal(runner: ProjectionRunner, readStore: ReadStore, context: CommandContext): Promise<ProjectSummary> {
  const startedMs = performance.now();
  const startPosition = lowestPosition((await runner.status()).map((status) => status.position));
  runner.start();
  const signing = context.config.checkpoints.signing === 'on';
  const key = signing ? loadOrCreateCheckpointKey(context.config.checkpoints.key, context.config.dataDir).key : undefined;
  const issuer = key === undefined ? undefined : new CheckpointIssuer(context.store, readStore, key, context.config.checkpoints, systemClock, stderrLogger('project'));
  const merkle = new MerkleTreeJob(context.store, readStore, stderrLogger('project'), issuer);
  merkle.start();
  try {
    const caughtUp = await drawCatchUp(runner, context.progress('project'), startPosition, context.signal);
    if (caughtUp !== undefined && !context.json) {
      process.stderr.write(`project: caught up at position ${caughtUp}; following the log until SIGINT or SIGTERM\n`);
    }
    await aborted(context.signal);
  } finally {
    // Commits the batch being folded, then returns; the read store is closed by execute afterwards.
    await Promise.all([runner.stop(), merkle.stop()]);
  }
  const reason: unknown = context.signal.reason;
  return summaryOf(startPosition, await runner.status(), startedMs, reason instanceof InterruptedError ? reason.signal : null);
}

/** Draws the background catch-up until every projection is at the head; the position reached, or undefined if stopped. */
async function drawCatchUp(runner: ProjectionRunner, progress: ProgressReporter, startPosition: bigint, signal: AbortSignal): Promise<bigint | undefined> {
  try {
    while (!signal.aborted) {
      const statuses = await runner.status();
      const position = lowestPosition(statuses.map((status) => status.position));
      const head = statuses[0]?.headPosition ?? 0n;
      progress.update(Number(position - startPosition), Number(head - startPosition));
      if (statuses.every((status) => status.lagEvents === 0n)) return position;
      await delay(STATUS_POLL_MS, signal);
    }
    return undefined;
  } finally {
    progress.finish();
  }
}

function summaryOf(startPosition: bigint, statuses: readonly ProjectionStatus[], startedMs: number, stoppedBy: NodeJS.Signals | null): ProjectSummary {
  return {
    startPosition,
    position: lowestPosition(statuses.map((status) => status.position)),
    headPosition: statuses[0]?.headPosition ?? null,
    elapsedMs: Math.round(secondsSince(startedMs) * 1_000),
    stoppedBy,
  };
}

function summaryView(summary: ProjectSummary) {
  const folded = summary.position - summary.startPosition;
  return {
    startPosition: summary.startPosition.toString(),
    position: summary.position.toString(),
    headPosition: summary.headPosition?.toString() ?? null,
    positionsFolded: folded.toString(),
    elapsedMs: summary.elapsedMs,
    eventsPerSecond: perSecond(folded, summary.elapsedMs / 1_000),
    stoppedBy: summary.stoppedBy,
  };
}

function describeSummary(summary: ProjectSummary, once: boolean): string {
  const head = summary.headPosition === null ? 'the log is empty' : `log head ${summary.headPosition}`;
  const how = once ? 'caught up' : `stopped by ${summary.stoppedBy ?? 'request'}`;
  const folded = summary.position - summary.startPosition;
  return `project: ${how} at position ${summary.position} (${head}); ${folded} positions folded from ${summary.startPosition} in ${(summary.elapsedMs / 1_000).toFixed(1)} s`;
}

/** Resolves once the signal aborts; keeps the process alive meanwhile (a pending promise alone would not). */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => undefined, 60_000);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        resolve();
      },
      { once: true },
    );
  });
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
