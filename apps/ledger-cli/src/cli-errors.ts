import { constants } from 'node:os';

/**
 * Exit codes of every ledger command. 1 is reserved for "what the command checks does not hold" (a broken hash
 * chain, a read model that does not reconcile), so that scripts can tell a finding from a failure to look.
 */
export const ExitCode = {
  OK: 0,
  /** The check ran and found a failure (verify: the first event that does not hold). */
  CHECK_FAILED: 1,
  /** Bad arguments or a bad configuration value (the message names the option or the variable). */
  USAGE: 2,
  /** The command could not finish for another reason (an I/O error, an unreadable event during an export). */
  FAULT: 3,
} as const;

/** The shell's convention for a process ended by a signal: 128 + the signal's number (130 for SIGINT). */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Arguments that parse but do not make sense together (`export` with neither --stream nor --all). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The arguments are fine but the configuration forbids the command (`keys` while LEDGER_API_KEYS is set): a usage
 * exit whose message explains what to change, without the usage text, which would not help.
 */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

/**
 * An option value commander should refuse. Commander recognises the code, prefixes the message with the option's
 * name and exits through the usage path (see main.ts), as for any other bad option.
 */
export class InvalidOptionValueError extends Error {
  readonly code = 'commander.invalidArgument';
  readonly exitCode = ExitCode.USAGE;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOptionValueError';
  }
}

/** The abort reason of a command stopped by SIGINT or SIGTERM. */
export class InterruptedError extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}

/** Whoever read stdout went away (`ledger export --all | head`). */
export class OutputClosedError extends Error {
  constructor() {
    super('the output was closed before the command finished');
    this.name = 'OutputClosedError';
  }
}

/** What commander throws through exitOverride: it has printed its message already. */
export interface CommanderExit {
  readonly code: string;
  readonly exitCode: number;
}

export function isCommanderExit(error: unknown): error is CommanderExit {
  if (typeof error !== 'object' || error === null) return false;
  const { code, exitCode } = error as { code?: unknown; exitCode?: unknown };
  return typeof code === 'string' && code.startsWith('commander.') && typeof exitCode === 'number';
}

/** Help and --version end with 0; any other commander exit is a usage error. */
export function exitCodeForCommander(exit: CommanderExit): number {
  return exit.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
