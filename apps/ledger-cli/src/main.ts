import 'reflect-metadata';
import { CommandFactory } from 'nest-commander';
import { ExitCode, exitCodeForCommander, isCommanderExit, messageOf } from './cli-errors';
import { LedgerCliModule } from './cli.module';

/**
 * `ledger <command> [options]` (DESIGN §9). Commands set process.exitCode themselves and never throw (see
 * LedgerCommand); what reaches the handlers here is commander's own exits (usage errors, --help) or a fault.
 */
async function main(): Promise<void> {
  await CommandFactory.run(LedgerCliModule, {
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
      process.stderr.write(`ledger: ${messageOf(error)}\n`);
      process.exitCode = ExitCode.FAULT;
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`ledger: start-up failed: ${messageOf(error)}\n`);
  process.exitCode = ExitCode.FAULT;
});
