import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { CommandFactory } from 'nest-commander';
import { ExitCode, exitCodeForCommander, isCommanderExit, messageOf } from './cli-errors';

/**
 * Runs a command-line program whose commands are the module's providers (the operator CLI, the bench). Commands set
 * process.exitCode themselves and never throw (see LedgerCommand); what reaches the handlers here is commander's own
 * exits (usage errors, --help) or a fault.
 */
export function runCommandLine(module: Type<unknown>, name: string): void {
  run(module, name).catch((error: unknown) => {
    process.stderr.write(`${name}: start-up failed: ${messageOf(error)}\n`);
    process.exitCode = ExitCode.FAULT;
  });
}

async function run(module: Type<unknown>, name: string): Promise<void> {
  await CommandFactory.run(module, {
    logger: false,
    // Nest would otherwise abort() the process on a wiring error, with no message for the user.
    abortOnError: false,
    // Commander has printed its message (and the help) already; throwing hands the exit to serviceErrorHandler.
    errorHandler: (error) => {
      throw error;
    },
    serviceErrorHandler: (error) => {
      if (isCommanderExit(error)) {
        process.exitCode = exitCodeForCommander(error);
        return;
      }
      process.stderr.write(`${name}: ${messageOf(error)}\n`);
      process.exitCode = ExitCode.FAULT;
    },
  });
}
