import { BULK_BATCH_SIZE, catchUpMerkleTree, MERKLE_TREE, rebuild, rebuildInParallel, rebuildSideBySide, type CatchUpResult } from '@app/projections';
import { Command, Option } from 'nest-commander';
import { ExitCode, UsageError } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { numberOption, parseBatchSize, parseProjectionName, parseWorkers, PROJECTION_NAMES, stringOption } from '../options';
import { catchUpListener, peakRssMb, perSecond, secondsSince, selectProjections, stderrLogger, yieldingStore } from '../read-models';

interface RebuildCommandOptions {
  /** One projection, or every one when undefined. */
  readonly projection: string | undefined;
  /** Events per commit; BULK_BATCH_SIZE when undefined. */
  readonly batchSize: number | undefined;
  /** --merkle-tree: the Merkle tree over the log instead of the read models. */
  readonly merkleTree: boolean;
  /** --workers N: fold on N worker threads; on the main thread when undefined. */
  readonly workers: number | undefined;
}

interface RebuildSummary {
  readonly projections: readonly string[];
  readonly workers: number | undefined;
  readonly result: CatchUpResult;
  readonly elapsedSeconds: number;
  readonly peakRssMb: number;
}

/**
 * `ledger rebuild [--projection NAME] [--batch-size N] [--json]`: folds the log again from position zero (read
 * models are derived from the log, so they can always be built again), a batch per transaction, side by side with
 * the read models in use (libs/projections/src/side-by-side.ts), which the rebuilt ones replace in one transaction
 * at the end: an API serving meanwhile answers from the old complete read models, then from the new ones. A signal stops it between two batches, before the swap: the read models in
 * use are untouched, and the next rebuild starts its staged rows again.
 */
@Command({
  name: 'rebuild',
  description: 'fold the whole log again from position zero beside the read models (or one), then swap them in at once',
})
export class RebuildCommand extends LedgerCommand<RebuildCommandOptions> {
  @Option({ flags: '--projection <name>', description: `rebuild one read model only: ${PROJECTION_NAMES.join(', ')}` })
  parseProjection(value: string): string {
    return parseProjectionName(value);
  }

  @Option({
    flags: '--batch-size <events>',
    description: `events folded per commit (default ${BULK_BATCH_SIZE.toLocaleString('en-US')}); smaller commits more often, so a stopped rebuild keeps more`,
  })
  parseBatchSize(value: string): number {
    return parseBatchSize(value);
  }

  @Option({
    flags: '--workers <threads>',
    description: 'fold on that many worker threads while this one reads the log and commits (the same rows; about one per core)',
  })
  parseWorkers(value: string): number {
    return parseWorkers(value);
  }

  @Option({ flags: '--merkle-tree', description: 'rebuild the Merkle tree over the log (its tiles) instead of the read models' })
  parseMerkleTree(): boolean {
    return true;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): RebuildCommandOptions {
    const merkleTree = raw['merkleTree'] === true;
    if (merkleTree && (raw['projection'] !== undefined || raw['batchSize'] !== undefined || raw['workers'] !== undefined)) {
      throw new UsageError('--merkle-tree takes none of --projection, --batch-size and --workers');
    }
    return { projection: stringOption(raw, 'projection'), batchSize: numberOption(raw, 'batchSize'), merkleTree, workers: numberOption(raw, 'workers') };
  }

  /**
   * Every event's leaf folded again beside the tree in use, which the new one replaces at once (signed checkpoints
   * are untouched): proofs asked for meanwhile come from the old complete tree.
   */
  private async rebuildTree(context: CommandContext): Promise<number> {
    const readStore = await context.openReadStore('create');
    const startedMs = performance.now();
    let leaves: number;
    try {
      leaves = await rebuildSideBySide(readStore, [{ name: MERKLE_TREE }], async (staged) => {
        await staged.reset(MERKLE_TREE);
        return (await catchUpMerkleTree(context.store, staged, { signal: context.signal })).size;
      });
    } finally {
      await readStore.close();
    }
    const seconds = secondsSince(startedMs);
    await context.printResult({
      text: `rebuild: Merkle tree rebuilt over ${leaves} events in ${seconds.toFixed(1)} s (${perSecond(BigInt(leaves), seconds)} leaves/s)`,
      json: { merkleTree: { leaves, elapsedMs: Math.round(seconds * 1_000) } },
    });
    return ExitCode.OK;
  }

  protected async execute(options: RebuildCommandOptions, context: CommandContext): Promise<number> {
    if (options.merkleTree) return this.rebuildTree(context);
    const projections = selectProjections(options.projection);
    const readStore = await context.openReadStore('create');
    const progress = context.progress('rebuild');
    const startedMs = performance.now();
    let result: CatchUpResult;
    try {
      const rebuildOptions = {
        store: yieldingStore(context.store),
        readStore,
        projections,
        onProgress: catchUpListener(progress, context.signal, 0n),
        batchSize: options.batchSize,
        asOfSnapshotEvery: context.config.asOfSnapshotEvery,
        logger: stderrLogger('rebuild'),
      };
      result = options.workers === undefined ? await rebuild(rebuildOptions) : await rebuildInParallel({ ...rebuildOptions, workers: options.workers });
    } catch (error) {
      if (context.signal.aborted) {
        process.stderr.write('rebuild: stopped before the swap; the read models in use are untouched (the next rebuild starts over)\n');
      }
      throw error;
    } finally {
      progress.finish();
      await readStore.close();
    }
    const summary: RebuildSummary = {
      projections: projections.map((projection) => projection.name),
      workers: options.workers,
      result,
      elapsedSeconds: secondsSince(startedMs),
      peakRssMb: peakRssMb(),
    };
    await context.printResult({ text: describeSummary(summary), json: summaryView(summary) });
    return ExitCode.OK;
  }
}

/**
 * Events per second count every position of the log the rebuild went through (in SQLite, positions are the events
 * 1..head); events no selected projection handles are skipped by the read but passed all the same.
 */
function summaryView(summary: RebuildSummary) {
  const position = summary.result.position ?? 0n;
  return {
    projections: summary.projections,
    workers: summary.workers ?? 0,
    position: summary.result.position?.toString() ?? null,
    eventsFolded: summary.result.eventsRead,
    batches: summary.result.batches,
    elapsedMs: Math.round(summary.elapsedSeconds * 1_000),
    eventsPerSecond: perSecond(position, summary.elapsedSeconds),
    peakRssMb: summary.peakRssMb,
  };
}

function describeSummary(summary: RebuildSummary): string {
  const view = summaryView(summary);
  const what = `${summary.projections.length === 1 ? summary.projections[0] : `${summary.projections.length} read models`}`;
  if (view.position === null) return `rebuild: ${what} reset; the log is empty (peak RSS ${view.peakRssMb} MB)`;
  return [
    `rebuild: ${what} rebuilt to position ${view.position} (${view.eventsFolded} events folded in ${view.batches} batches${view.workers > 0 ? ` on ${view.workers} worker threads` : ''})`,
    `  ${(view.elapsedMs / 1_000).toFixed(1)} s, ${view.eventsPerSecond} events/s, peak RSS ${view.peakRssMb} MB`,
  ].join('\n');
}
