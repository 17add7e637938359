import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@app/event-store';
import { Ledger, systemClock } from '@app/ledger';
import { Command, Option } from 'nest-commander';
import { ExitCode, UsageError } from '../cli-errors';
import { replayInChild } from '../bench/replay';
import { benchJson, benchText, type BenchRun } from '../bench/report';
import { writeSyntheticLog } from '../bench/synthetic-log';
import { concurrentPhase, sequentialPhase, setUpAccounts, WORKLOAD } from '../bench/workload';
import { LedgerCommand, type CommandContext } from '../ledger-command';

interface BenchCommandOptions {
  readonly quick: boolean;
  readonly folder: string;
}

/** Events in the large log the replay figures come from (without --quick). */
export const LARGE_LOG_EVENTS = 1_000_000;

/**
 * `ledger bench [--quick] [--json]` (also `npm run bench`): the workload on a fresh temporary SQLite store
 * (synchronous=FULL), through the real handlers: 500 accounts opened and funded, 10,000 withdrawal requests awaited
 * one after another, 10,000 more with 64 in flight, then a rebuild of the whole log into every projection in a
 * child process (its peak RSS is the child's own). Without --quick, also a rebuild of a 1,000,000-event log.
 */
@Command({
  name: 'bench',
  description: 'measure command throughput and replay speed on a fresh temporary SQLite ledger',
})
export class BenchCommand extends LedgerCommand<BenchCommandOptions> {
  protected override readonly storeAccess = 'create' as const;
  private folder: string | undefined;

  @Option({ flags: '--quick', description: 'skip the 1,000,000-event replay (under two minutes)' })
  parseQuick(): boolean {
    return true;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): BenchCommandOptions {
    const folder = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
    this.folder = folder;
    // The base opens the store named by LEDGER_EVENT_STORE; the bench's store is its own, never the server's.
    process.env['LEDGER_EVENT_STORE'] = `sqlite:${join(folder, 'ledger.db')}`;
    return { quick: raw['quick'] === true, folder };
  }

  /** Removes the temporary folder once the base has closed the store. */
  override async run(params: string[], raw: Record<string, unknown> = {}): Promise<void> {
    try {
      await super.run(params, raw);
    } finally {
      if (this.folder !== undefined) rmSync(this.folder, { recursive: true, force: true });
    }
  }

  protected async execute(options: BenchCommandOptions, context: CommandContext): Promise<number> {
    const head = await context.store.headPosition();
    if (head !== undefined) throw new UsageError(`the bench store already holds events (up to position ${head})`);
    const startedMs = performance.now();
    const ledger = new Ledger(context.store, systemClock);

    const setup = context.progress('bench setup (accounts)');
    await setUpAccounts(ledger, WORKLOAD.accounts, (done) => setup.update(done, WORKLOAD.accounts)).finally(() => setup.finish());
    const setupSeconds = (performance.now() - startedMs) / 1_000;
    context.signal.throwIfAborted();

    const seqProgress = context.progress('bench sequential');
    const sequential = await sequentialPhase(ledger, WORKLOAD, (done) => {
      seqProgress.update(done, WORKLOAD.withdrawals);
    }).finally(() => seqProgress.finish());
    context.signal.throwIfAborted();

    const parProgress = context.progress(`bench ${WORKLOAD.inFlight} in flight`);
    const concurrent = await concurrentPhase(ledger, WORKLOAD, (done) => {
      if (done % 250 === 0) parProgress.update(done, WORKLOAD.withdrawals);
    }).finally(() => parProgress.finish());
    context.signal.throwIfAborted();

    const replayWorkload = await replayInChild(join(options.folder, 'ledger.db'), join(options.folder, 'read-models.db'), context.signal);

    let replayLarge: BenchRun['replayLarge'] = null;
    if (!options.quick) {
      const largePath = join(options.folder, 'large.db');
      const generatedMs = performance.now();
      const large = openSqliteEventStore({ path: largePath });
      const genProgress = context.progress('bench writing the large log');
      let generatedEvents: number;
      try {
        const last = await writeSyntheticLog(large, LARGE_LOG_EVENTS, (written) => {
          genProgress.update(written, LARGE_LOG_EVENTS);
          context.signal.throwIfAborted();
        });
        generatedEvents = Number(last ?? 0n);
      } finally {
        genProgress.finish();
        await large.close();
      }
      const generationSeconds = (performance.now() - generatedMs) / 1_000;
      const figures = await replayInChild(largePath, join(options.folder, 'large.read-models.db'), context.signal);
      replayLarge = { ...figures, generatedEvents, generationSeconds };
    }

    const run: BenchRun = {
      quick: options.quick,
      workload: WORKLOAD,
      setupSeconds,
      sequential,
      concurrent,
      replayWorkload,
      replayLarge,
      elapsedSeconds: (performance.now() - startedMs) / 1_000,
    };
    await context.printResult({ json: benchJson(run), text: benchText(run) });
    return ExitCode.OK;
  }
}
