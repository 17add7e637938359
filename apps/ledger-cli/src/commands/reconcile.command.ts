import type { EventStore, RecordedEvent } from '@app/event-store';
import {
  reconcile,
  type Projection,
  type ProjectionReconciliation,
  type ReadModelRow,
  type ReadStore,
  type RowDifference,
} from '@app/projections';
import { Command, Option } from 'nest-commander';
import { ExitCode } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { parseProjectionName, PROJECTION_NAMES, stringOption } from '../options';
import { selectProjections, yieldingStore } from '../read-models';

/** Differences printed per read model without --json (the JSON carries the library's first 100; the count, all). */
export const MAX_PRINTED_DIFFERENCES = 20;
/** Longest row shown in a printed difference, in characters. */
const MAX_PRINTED_ROW_CHARS = 400;
/** Comparisons of one group before giving up because a projector keeps moving the checkpoints meanwhile. */
const MAX_ATTEMPTS = 3;

interface ReconcileCommandOptions {
  readonly projection: string | undefined;
}

/**
 * `ledger reconcile [--projection NAME] [--json]`: replays the log in memory up to each read model's stored
 * checkpoint and compares the stored rows with the replayed ones, row by row, so that a read model that drifted from the log shows. Exit 0: no difference;
 * exit 1: a difference, each named (bounded) with both rows. Read models stored by another version count as one
 * difference (the next `ledger project` rebuilds them).
 */
@Command({
  name: 'reconcile',
  description: 'compare the stored read models with a replay of the log at their checkpoints (exit 1 on any difference)',
})
export class ReconcileCommand extends LedgerCommand<ReconcileCommandOptions> {
  @Option({ flags: '--projection <name>', description: `compare one read model only: ${PROJECTION_NAMES.join(', ')}` })
  parseProjection(value: string): string {
    return parseProjectionName(value);
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): ReconcileCommandOptions {
    return { projection: stringOption(raw, 'projection') };
  }

  protected async execute(options: ReconcileCommandOptions, context: CommandContext): Promise<number> {
    const readStore = await context.openReadStore('existing');
    let results: ProjectionReconciliation[];
    try {
      results = await reconcileAll(context, readStore, selectProjections(options.projection));
    } finally {
      await readStore.close();
    }
    const headPosition = (await context.store.headPosition()) ?? null;
    const differenceCount = results.reduce((sum, result) => sum + result.differenceCount, 0);
    await context.printResult({
      text: describeResults(results, headPosition, differenceCount),
      json: {
        ok: differenceCount === 0,
        differenceCount,
        headPosition: headPosition?.toString() ?? null,
        projections: results.map((result) => ({ ...result, checkpoint: result.checkpoint?.toString() ?? null })),
      },
    });
    return differenceCount === 0 ? ExitCode.OK : ExitCode.CHECK_FAILED;
  }
}

/**
 * Reconciles the projections a group at a time, a group being those stored at one checkpoint (one replay serves
 * them all, as in the library), so that the progress can count each replay's positions.
 */
async function reconcileAll(context: CommandContext, readStore: ReadStore, projections: readonly Projection[]): Promise<ProjectionReconciliation[]> {
  const groups = new Map<bigint, Projection[]>();
  for (const projection of projections) {
    const stored = await readStore.checkpoint(projection.name);
    // Another version is not replayed (the library reports it as one difference): nothing to count.
    const position = stored !== undefined && stored.version === projection.version ? stored.position : 0n;
    groups.set(position, [...(groups.get(position) ?? []), projection]);
  }
  const totalPositions = [...groups.keys()].reduce((sum, position) => sum + Number(position), 0);
  const progress = context.progress('reconcile');
  const results = new Map<string, ProjectionReconciliation>();
  let donePositions = 0;
  try {
    for (const [position, group] of groups) {
      const onEvent = (event: RecordedEvent): void => {
        progress.update(donePositions + Number(event.position), totalPositions);
        context.signal.throwIfAborted();
      };
      for (const result of await reconcileGroup(yieldingStore(context.store, onEvent), readStore, group)) results.set(result.name, result);
      donePositions += Number(position);
    }
  } finally {
    progress.finish();
  }
  return projections.map((projection) => results.get(projection.name)!);
}

/**
 * The library compares the stored rows with a replay up to the checkpoint it read first. A projector that commits
 * meanwhile moves rows past that checkpoint and would show as drift, so the comparison counts only when every
 * checkpoint is still where it was afterwards (checkpoints only move forwards: unchanged means no commit between).
 */
async function reconcileGroup(store: EventStore, readStore: ReadStore, group: readonly Projection[]): Promise<ProjectionReconciliation[]> {
  for (let attempt = 1; ; attempt += 1) {
    const report = await reconcile({ store, readStore, projections: group });
    let moved = false;
    for (const result of report.projections) {
      const stored = await readStore.checkpoint(result.name);
      if ((stored?.position ?? null) !== result.checkpoint) moved = true;
    }
    if (!moved) return report.projections;
    if (attempt >= MAX_ATTEMPTS) {
      throw new Error(
        `the read models moved ${attempt} times while they were compared: a projector is running on them ` +
          '(ledger project, or the API with LEDGER_PROJECTOR=inline); reconcile while it is stopped',
      );
    }
  }
}

function describeResults(results: readonly ProjectionReconciliation[], headPosition: bigint | null, differenceCount: number): string {
  const lines = results.flatMap(describeResult);
  const head = headPosition === null ? 'the log is empty' : `log head ${headPosition}`;
  const drifted = results.filter((result) => result.differenceCount > 0).length;
  lines.push(
    differenceCount === 0
      ? `reconcile: OK: no difference in ${plural(results.length, 'read model')}, each compared with a replay of the log at its checkpoint (${head})`
      : `reconcile: DRIFT: ${plural(differenceCount, 'difference')} in ${drifted} of ${plural(results.length, 'read model')} (${head})`,
  );
  return lines.join('\n');
}

function describeResult(result: ProjectionReconciliation): string[] {
  const at = result.checkpoint === null ? 'never built (no checkpoint)' : `checkpoint ${result.checkpoint}`;
  if (result.storedVersion !== null) {
    return [`reconcile: ${result.name}: stored by version ${result.storedVersion}, not this code's: rebuilt by the next ledger project (${at})`];
  }
  if (result.differenceCount === 0) return [`reconcile: ${result.name}: OK: ${plural(result.rowsCompared, 'row')} at ${at}`];
  const lines = [`reconcile: ${result.name}: ${plural(result.differenceCount, 'difference')} in ${plural(result.rowsCompared, 'row')} at ${at}`];
  for (const difference of result.differences.slice(0, MAX_PRINTED_DIFFERENCES)) lines.push(...describeDifference(difference));
  const unprinted = result.differenceCount - Math.min(result.differences.length, MAX_PRINTED_DIFFERENCES);
  if (unprinted > 0) lines.push(`  ... and ${unprinted} more (--json lists the first ${result.differences.length})`);
  return lines;
}

function describeDifference(difference: RowDifference): string[] {
  if (difference.stored === null) return [`  ${difference.key}: missing from the read store`, `    replayed: ${rowText(difference.replayed)}`];
  if (difference.replayed === null) return [`  ${difference.key}: in the read store, but not in the replay`, `    stored:   ${rowText(difference.stored)}`];
  return [`  ${difference.key}: differs`, `    stored:   ${rowText(difference.stored)}`, `    replayed: ${rowText(difference.replayed)}`];
}

function rowText(row: ReadModelRow | null): string {
  const text = JSON.stringify({ doc: row?.doc, index: row?.index });
  return text.length <= MAX_PRINTED_ROW_CHARS ? text : `${text.slice(0, MAX_PRINTED_ROW_CHARS - 3)}...`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
