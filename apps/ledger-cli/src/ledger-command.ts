import { Inject, Optional } from '@nestjs/common';
import type { EventStore } from '@app/event-store';
import { ConfigError, LedgerStores, type LedgerConfig } from '@app/ledger';
import type { ReadStore } from '@app/projections';
import { CommandRunner, Option } from 'nest-commander';
import { exitCodeForSignal, ExitCode, messageOf, OutputClosedError, RefusedError, UsageError } from './cli-errors';
import { Interruption } from './interruption';
import { openConfiguredReadStore, openConfiguredStore, type OpenedStore, type StoreAccess } from './open-store';
import { StreamLineSink, type LineSink } from './output';
import { createProgress, progressModeFor, type ProgressReporter } from './progress';

const DEFAULT_STORES = new LedgerStores();

/** commander's Command as nest-commander hands it over (nest-commander bundles its own commander). */
export type CommanderCommand = Parameters<CommandRunner['setCommand']>[0];

/** What a command's execute() gets: the open store, the common flags, and where to write. */
export interface CommandContext {
  readonly config: LedgerConfig;
  readonly store: EventStore;
  /** --json: print one JSON object, no progress, no prose. */
  readonly json: boolean;
  /** Aborted by SIGINT or SIGTERM; pass it to long walks (verify, export) so they stop between two events. */
  readonly signal: AbortSignal;
  /** stdout, for the result only (JSONL, the report); never progress. */
  readonly stdout: LineSink;
  /** A progress display on stderr (a bar on a terminal, plain lines otherwise, nothing with --json). */
  progress(label: string): ProgressReporter;
  /** Prints the result: `json` (one line) with --json, `text` otherwise. */
  printResult(result: { readonly text: string; readonly json: unknown }): Promise<void>;
  /**
   * Opens the read models' store (LEDGER_READ_STORE), which the command closes: 'existing' refuses a SQLite file
   * that is not there, 'create' may start one.
   */
  openReadStore(access: Exclude<StoreAccess, 'none'>): Promise<ReadStore>;
}

/**
 * The base of every ledger command. A command declares its options with @Option methods (each returns the parsed
 * value or throws InvalidOptionValueError), turns them into typed options in parseOptions (throwing UsageError for
 * combinations that make no sense), and does its work in execute, returning ExitCode.OK or ExitCode.CHECK_FAILED.
 *
 * The base does the rest, the same way for every command: `--json`; strict arguments; opening the store from
 * LEDGER_EVENT_STORE and closing it however the command ends; SIGINT/SIGTERM as an abort signal; and mapping errors
 * to exit codes and messages without stack traces (see cli-errors.ts).
 */
export abstract class LedgerCommand<Options> extends CommandRunner {
  /**
   * The stores come from LedgerStoresModule, as the API's come from LedgerModule through the same LedgerStores. A
   * module that does not import it yet (the bench's) gets a LedgerStores of its own.
   */
  @Optional() @Inject(LedgerStores) private readonly injectedStores: LedgerStores | undefined;

  private get stores(): LedgerStores {
    return this.injectedStores ?? DEFAULT_STORES;
  }

  /** Override with 'create' in a command that may start a new ledger, 'none' in one that needs the configuration only. */
  protected readonly storeAccess: StoreAccess = 'existing';

  /** The store access for these options: a command that opens the store for some options only overrides this. */
  protected storeAccessFor(_options: Options): StoreAccess {
    return this.storeAccess;
  }

  protected abstract parseOptions(params: readonly string[], raw: Readonly<Record<string, unknown>>): Options;
  protected abstract execute(options: Options, context: CommandContext): Promise<number>;

  @Option({ flags: '--json', description: 'machine-readable output: the result as JSON on stdout, no progress, no prose' })
  parseJson(): boolean {
    return true;
  }

  override setCommand(command: CommanderCommand): this {
    // Commander's own exits (bad option, --help) go through main.ts, which maps them to exit codes; a stray
    // argument is an error rather than silently ignored.
    command.exitOverride().showHelpAfterError().allowExcessArguments(false);
    return super.setCommand(command);
  }

  /** nest-commander's entry point. Sets process.exitCode and never throws. */
  async run(params: string[], raw: Record<string, unknown> = {}): Promise<void> {
    process.exitCode = await this.runToExitCode(params, raw);
  }

  private async runToExitCode(params: readonly string[], raw: Readonly<Record<string, unknown>>): Promise<number> {
    const json = raw['json'] === true;
    let options: Options;
    try {
      options = this.parseOptions(params, raw);
    } catch (error) {
      return this.fail(error, json, undefined);
    }
    const interruption = new Interruption();
    const stdout = new StreamLineSink(process.stdout);
    let opened: OpenedStore | undefined;
    let code: number;
    try {
      opened = await openConfiguredStore(this.stores, process.env, this.storeAccessFor(options));
      // A signal that came while the store opened would otherwise go unnoticed by a walk with nothing to read.
      interruption.signal.throwIfAborted();
      code = await this.execute(options, this.contextFor(opened, json, interruption.signal, stdout));
      await stdout.close();
    } catch (error) {
      await stdout.abandon();
      code = this.fail(error, json, interruption.interruptedBy);
    }
    try {
      await opened?.store.close();
    } catch (error) {
      code = this.fail(error, json, undefined);
    } finally {
      // Only now: a signal while the store closes must not kill the process half-way.
      interruption.dispose();
    }
    return code;
  }

  private contextFor(opened: OpenedStore, json: boolean, signal: AbortSignal, stdout: LineSink): CommandContext {
    return {
      ...opened,
      json,
      signal,
      stdout,
      progress: (label) => createProgress(label, { mode: progressModeFor(json, process.stderr), stream: process.stderr }),
      printResult: async (result) => stdout.writeLine(json ? JSON.stringify(result.json) : result.text),
      openReadStore: (access) => openConfiguredReadStore(this.stores, opened.config, access),
    };
  }

  /** Prints why the command failed (stderr; also stdout as JSON with --json) and returns the exit code. */
  private fail(error: unknown, json: boolean, interruptedBy: NodeJS.Signals | undefined): number {
    const name = this.commandPath();
    if (interruptedBy !== undefined) return this.printFailure('interrupted', `${name}: stopped by ${interruptedBy}`, exitCodeForSignal(interruptedBy), json);
    // The reader went away (`| head`): nobody is left to tell, so exit as a program killed by SIGPIPE would.
    if (error instanceof OutputClosedError) return exitCodeForSignal('SIGPIPE');
    if (error instanceof ConfigError) return this.printFailure('config', error.message, ExitCode.USAGE, json);
    if (error instanceof RefusedError) return this.printFailure('refused', `${name}: ${error.message}`, ExitCode.USAGE, json);
    if (error instanceof UsageError) {
      const code = this.printFailure('usage', `error: ${error.message}`, ExitCode.USAGE, json);
      this.command.outputHelp({ error: true });
      return code;
    }
    return this.printFailure('fault', `${name} failed: ${messageOf(error)}`, ExitCode.FAULT, json);
  }

  /** `ledger verify`, or `ledger keys create` for a sub-command. */
  private commandPath(): string {
    const names: string[] = [];
    // The root program has no parent; every command under it does.
    for (let command: CommanderCommand | null = this.command; command?.parent != null; command = command.parent) names.unshift(command.name());
    return ['ledger', ...names].join(' ');
  }

  private printFailure(kind: string, message: string, code: number, json: boolean): number {
    process.stderr.write(`${message}\n`);
    if (json) process.stdout.write(`${JSON.stringify({ error: { kind, message, exitCode: code } })}\n`);
    return code;
  }
}
