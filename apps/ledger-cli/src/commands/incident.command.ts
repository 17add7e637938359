import { rmSync } from 'node:fs';
import {
  buildIncidentReport,
  DEFAULT_ACCOUNTS,
  DEFAULT_SEED,
  MAX_ACCOUNTS,
  MIN_ACCOUNTS,
  runIncidentScenario,
  type ReportStage,
  type VerifiedIncidentReport,
} from '@app/incident-scenario';
import { openSqliteEventStore, type EventStore } from '@app/event-store';
import { Command, Option } from 'nest-commander';
import { ExitCode, InvalidOptionValueError, UsageError } from '../cli-errors';
import { writeIncidentFiles } from '../incident/files';
import { prepareScenarioStore, type ScenarioStore } from '../incident/scenario-store';
import { incidentJson, incidentText, type DefendedRun } from '../incident/text-report';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { stringOption } from '../options';
import type { ProgressReporter } from '../progress';

interface IncidentCommandOptions {
  readonly seed: number;
  readonly accounts: number;
  readonly store: ScenarioStore;
  readonly outDir: string | undefined;
  readonly defences: 'off' | 'on';
}

function wholeNumber(value: string, min: number, max: number, example: string): number {
  const number = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new InvalidOptionValueError(`must be a whole number from ${min} to ${max}, such as ${example} (got ${JSON.stringify(value)})`);
  }
  return number;
}

/**
 * `ledger incident [--seed N] [--accounts N] [--store PATH] [--out DIR] [--defences on] [--json]` (also `npm run
 * incident`): plays the January 2022 incident through the ledger's real handlers on a fresh SQLite store, then reports
 * its figures from the read models, cross-checked against an in-memory replay, with the SHA-256 of the canonical log.
 * With `--defences on` it plays the same attack again, on a second temporary store, against a ledger that requires
 * proof of the second factor from the start, and reports both side by side.
 */
@Command({
  name: 'incident',
  description: 'play the January 2022 incident on a fresh ledger and report its figures from the read models',
})
export class IncidentCommand extends LedgerCommand<IncidentCommandOptions> {
  protected override readonly storeAccess = 'create' as const;
  private temporary: ScenarioStore | undefined;

  @Option({ flags: '--seed <n>', description: `the random seed (same seed, same event log)`, defaultValue: String(DEFAULT_SEED) })
  parseSeed(value: string): number {
    return wholeNumber(value, 0, 0xffff_ffff, '42');
  }

  @Option({ flags: '--accounts <n>', description: `customer accounts (483 of them attacked)`, defaultValue: String(DEFAULT_ACCOUNTS) })
  parseAccounts(value: string): number {
    return wholeNumber(value, MIN_ACCOUNTS, MAX_ACCOUNTS, '10000');
  }

  @Option({ flags: '--store <path>', description: 'the SQLite file to play it on (must be new or empty; kept); default: a temporary file, removed at exit' })
  parseStore(value: string): string {
    if (value === '') throw new InvalidOptionValueError('must be a file path');
    return value;
  }

  @Option({ flags: '--out <dir>', description: 'also write finance CSVs and a self-contained report.html to this folder' })
  parseOut(value: string): string {
    if (value === '') throw new InvalidOptionValueError('must be a folder path');
    return value;
  }

  @Option({ flags: '--defences <off|on>', description: 'on: also replay the attack against a ledger that requires proofs of the second factor from the start', defaultValue: 'off' })
  parseDefences(value: string): 'off' | 'on' {
    if (value !== 'off' && value !== 'on') throw new InvalidOptionValueError(`must be off or on (got ${JSON.stringify(value)})`);
    return value;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): IncidentCommandOptions {
    // Commander applies the defaults as strings, untouched by the parsers above.
    const seed = typeof raw['seed'] === 'number' ? raw['seed'] : DEFAULT_SEED;
    const accounts = typeof raw['accounts'] === 'number' ? raw['accounts'] : DEFAULT_ACCOUNTS;
    const store = prepareScenarioStore(stringOption(raw, 'store'));
    if (store.temporary) this.temporary = store;
    // The base opens the store named by LEDGER_EVENT_STORE; this command's store is its own, never the server's.
    process.env['LEDGER_EVENT_STORE'] = `sqlite:${store.path}`;
    const defences = raw['defences'] === 'on' ? 'on' : 'off';
    return { seed, accounts, store, outDir: stringOption(raw, 'out'), defences };
  }

  /** Removes the temporary store once the base has closed it. */
  override async run(params: string[], raw: Record<string, unknown> = {}): Promise<void> {
    try {
      await super.run(params, raw);
    } finally {
      if (this.temporary) rmSync(this.temporary.folder, { recursive: true, force: true });
    }
  }

  protected async execute(options: IncidentCommandOptions, context: CommandContext): Promise<number> {
    const head = await context.store.headPosition();
    if (head !== undefined) {
      throw new UsageError(`--store ${options.store.path} already holds events (up to position ${head}); the scenario needs a new or empty store`);
    }
    const startedMs = performance.now();
    const scenario = await this.play(context, options, context.store, 'off');
    const scenarioMs = performance.now() - startedMs;
    const report = await this.report(context, context.store, options.store.readStorePath, '');
    const reportedMs = performance.now();
    const defended = options.defences === 'on' ? await this.defended(context, options) : undefined;
    const files = options.outDir === undefined ? [] : await writeIncidentFiles(options.outDir, report, defended?.report);
    const elapsedMs = Math.round(performance.now() - startedMs);
    const timings = { scenarioMs: Math.round(scenarioMs), reportMs: Math.round(reportedMs - startedMs - scenarioMs) };
    const run = { scenario, report, store: options.store, files, elapsedMs, timings, defended };
    await context.printResult({ json: incidentJson(run), text: incidentText(run) });
    return ExitCode.OK;
  }

  private async play(context: CommandContext, options: IncidentCommandOptions, store: EventStore, defences: 'off' | 'on') {
    const scenarioProgress = context.progress(defences === 'on' ? 'incident scenario, defences on' : 'incident scenario');
    return runIncidentScenario({
      seed: options.seed,
      accounts: options.accounts,
      store,
      signal: context.signal,
      defences,
      onProgress: (progress) => scenarioProgress.update(progress.eventsAppended, progress.estimatedEvents),
    })
      .then((result) => {
        // The total was an estimate: the last line shows what the scenario appended, as all of it.
        scenarioProgress.update(result.eventsAppended, result.eventsAppended);
        return result;
      })
      .finally(() => scenarioProgress.finish());
  }

  private async report(context: CommandContext, store: EventStore, readStorePath: string, label: string): Promise<VerifiedIncidentReport> {
    const stages = new StageProgress(context, label);
    return buildIncidentReport({
      store,
      readStorePath,
      signal: context.signal,
      onProgress: (stage, done, total) => stages.update(stage, done, total),
    }).finally(() => stages.finish());
  }

  /** The same seed and attack on a second, temporary store, with proofs required from the start. */
  private async defended(context: CommandContext, options: IncidentCommandOptions): Promise<DefendedRun> {
    const startedMs = performance.now();
    const place = prepareScenarioStore(undefined);
    try {
      const store = openSqliteEventStore({ path: place.path });
      try {
        const scenario = await this.play(context, options, store, 'on');
        const report = await this.report(context, store, place.readStorePath, ', defences on');
        return { scenario, report, elapsedMs: Math.round(performance.now() - startedMs) };
      } finally {
        await store.close();
      }
    } finally {
      rmSync(place.folder, { recursive: true, force: true });
    }
  }
}

/** One progress display per stage of the report (read models, replay, log hash). */
class StageProgress {
  private current: { stage: ReportStage; reporter: ProgressReporter } | undefined;
  constructor(
    private readonly context: CommandContext,
    private readonly label: string,
  ) {}

  update(stage: ReportStage, done: number, total: number): void {
    if (this.current?.stage !== stage) {
      this.current?.reporter.finish();
      this.current = { stage, reporter: this.context.progress(`incident ${stage}${this.label}`) };
    }
    this.current.reporter.update(done, total);
  }

  finish(): void {
    this.current?.reporter.finish();
  }
}
