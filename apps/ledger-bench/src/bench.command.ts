import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore, type EventStore } from '@app/event-store';
import { catchUpMerkleTree, openSqliteReadStore } from '@app/projections';
import { Ledger, systemClock, verifierFor } from '@app/ledger';
import { Command, Option } from 'nest-commander';
import { ExitCode, UsageError } from '../../ledger-cli/src/cli-errors';
import { measureDisk } from './bench/disk';
import { asOfInChild } from './bench/as-of';
import { runEmmettWorkload } from './bench/emmett';
import { runHttpBench } from './bench/http';
import { replayInChild } from './bench/replay';
import { benchJson, benchText, type BenchRun, type TreeFigures } from './bench/report';
import { writeSyntheticLog } from './bench/synthetic-log';
import { BENCH_ATTESTER, concurrentPhase, sequentialPhase, setUpAccounts, verificationPhase, WORKLOAD } from './bench/workload';
import { LedgerCommand, type CommandContext } from '../../ledger-cli/src/ledger-command';

/** Fold workers of the bench's parallel replay: one per core of this 2-core machine. */
const PARALLEL_REPLAY_WORKERS = 2;

interface BenchCommandOptions {
  readonly quick: boolean;
  readonly folder: string;
}

/** Withdrawal requests per phase on Emmett with --quick (the full run gives it the whole workload). */
export const QUICK_EMMETT_WITHDRAWALS = 2_000;

/** Events in the large log the replay figures come from (without --quick). */
export const LARGE_LOG_EVENTS = 1_000_000;

/**
 * `ledger bench [--quick] [--json]` (also `npm run bench`), on fresh temporary files, in one run:
 * - what plain better-sqlite3 reaches on this disk (the ceiling of the durable figures);
 * - the workload through the real handlers on SQLite (synchronous=FULL): 500 accounts opened and funded,
 *   10,000 withdrawal requests awaited one after another, 10,000 more with 64 in flight;
 * - a rebuild of that log into every projection in a child process (its peak RSS is the child's own);
 * - the same workload on Emmett's SQLite event store (@event-driven-io/emmett-sqlite), and the ratios;
 * - the real API server (keys, validation, the embedded store) under autocannon in another process, 64 connections;
 * - without --quick, a rebuild of a 1,000,000-event log, which the replay figures then come from, and as-of reads
 *   on it (balances, and loss totals by position and by instant) with the snapshots that rebuild took.
 */
@Command({
  name: 'bench',
  description: 'measure commands/s (in process and over HTTP), replay speed and memory, and Emmett on the same workload',
})
export class BenchCommand extends LedgerCommand<BenchCommandOptions> {
  protected override readonly storeAccess = 'create' as const;
  private folder: string | undefined;

  @Option({ flags: '--quick', description: 'skip the 1,000,000-event replay and give Emmett 2,000 requests per phase (under two minutes)' })
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
    const disk = measureDisk(options.folder);
    context.signal.throwIfAborted();
    const ledger = new Ledger(context.store, systemClock, { secondFactor: verifierFor(BENCH_ATTESTER) });

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
    // Every request of the workload is one the ledger must accept: a refusal would make the figures measure refusals.
    for (const [name, result] of [['sequential', sequential], ['concurrent', concurrent]] as const) {
      if (result.refused > 0) throw new Error(`bench: ${result.refused} of the ${result.commands} ${name} withdrawal requests were refused`);
    }

    const verification = await verificationPhase(WORKLOAD);
    context.signal.throwIfAborted();

    const replayWorkload = await replayInChild(join(options.folder, 'ledger.db'), join(options.folder, 'read-models.db'), context.signal);
    const treeWorkload = await measureTree(context.store, join(options.folder, 'tree-workload.db'));

    // Emmett decides about 300 commands/s here: with --quick it gets fewer requests per phase (its rate, not its
    // total, is what is compared), so that the quick run stays under two minutes.
    const emmettSize = options.quick ? { ...WORKLOAD, withdrawals: QUICK_EMMETT_WITHDRAWALS } : WORKLOAD;
    const emmettProgress = context.progress('bench emmett');
    const emmettLog = muteConsole();
    const emmett = await runEmmettWorkload(join(options.folder, 'emmett'), emmettSize, (_phase, done) => {
      if (done % 250 === 0) emmettProgress.update(done, emmettSize.withdrawals);
    }).finally(() => {
      emmettLog.restore();
      emmettProgress.finish();
    });
    context.signal.throwIfAborted();

    const httpProgress = context.progress('bench http setup (accounts)');
    const http = await runHttpBench({
      folder: options.folder,
      accounts: WORKLOAD.accounts,
      requests: WORKLOAD.withdrawals,
      connections: WORKLOAD.inFlight,
      signal: context.signal,
      onSetupProgress: (done, total) => httpProgress.update(done, total),
    }).finally(() => httpProgress.finish());

    let replayLarge: BenchRun['replayLarge'] = null;
    let replayLargeParallel: BenchRun['replayLargeParallel'] = null;
    let treeLarge: TreeFigures | null = null;
    let asOfLarge: BenchRun['asOfLarge'] = null;
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
      // On the read store the single-threaded rebuild made, with the loss-totals snapshots it took.
      asOfLarge = await asOfInChild(largePath, join(options.folder, 'large.read-models.db'), context.signal);
      replayLargeParallel = await replayInChild(largePath, join(options.folder, 'large.parallel.read-models.db'), context.signal, PARALLEL_REPLAY_WORKERS);
      const reopened = openSqliteEventStore({ path: largePath });
      try {
        treeLarge = await measureTree(reopened, join(options.folder, 'tree-large.db'));
      } finally {
        await reopened.close();
      }
    }

    const run: BenchRun = {
      quick: options.quick,
      workload: WORKLOAD,
      disk,
      setupSeconds,
      http,
      emmett,
      emmettLogLines: emmettLog.lines,
      sequential,
      concurrent,
      verification,
      replayWorkload,
      replayLarge,
      replayLargeParallel,
      treeWorkload,
      treeLarge,
      asOfLarge,
      elapsedSeconds: (performance.now() - startedMs) / 1_000,
    };
    await context.printResult({ json: benchJson(run), text: benchText(run) });
    return ExitCode.OK;
  }
}

/** The Merkle tree over a whole log, folded from nothing into a fresh SQLite read store (what a rebuild of the tree costs). */
async function measureTree(store: EventStore, readStorePath: string): Promise<TreeFigures> {
  const readStore = openSqliteReadStore({ path: readStorePath });
  try {
    const startedMs = performance.now();
    const result = await catchUpMerkleTree(store, readStore);
    const seconds = (performance.now() - startedMs) / 1_000;
    return { leaves: result.size, seconds, leavesPerSecond: seconds > 0 ? Math.round(result.size / seconds) : 0 };
  } finally {
    await readStore.close();
  }
}

/**
 * Emmett's SQLite store writes every error it meets (and retries) to the console, which would land in the middle of
 * the bench's output (and before `--json`'s last line). They are counted instead, and the count is reported.
 */
function muteConsole(): { readonly lines: number; restore(): void } {
  const saved = { log: console.log, error: console.error, warn: console.warn };
  let lines = 0;
  const count = (): void => {
    lines += 1;
  };
  console.log = count;
  console.error = count;
  console.warn = count;
  return {
    get lines() {
      return lines;
    },
    restore() {
      Object.assign(console, saved);
    },
  };
}
