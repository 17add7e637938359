import { CommandRunner } from 'nest-commander';
import { ExitCode } from './cli-errors';
import type { CommanderCommand } from './ledger-command';

/**
 * A command that only groups sub-commands (`keys`, `attester`, `audit`). It is a plain CommandRunner, not a
 * LedgerCommand: an option of its own (--json) would be taken from its sub-commands' arguments by commander.
 */
export abstract class GroupCommand extends CommandRunner {
  /** The sub-commands, as the error message lists them: "keys list, keys create --role ROLE or ...". */
  protected abstract readonly usage: string;

  override setCommand(command: CommanderCommand): this {
    // An unknown sub-command reaches run() as an argument, to be named in the message.
    command.exitOverride().showHelpAfterError().allowExcessArguments(true);
    return super.setCommand(command);
  }

  /** Reached only without a known sub-command. */
  async run(params: string[]): Promise<void> {
    const given = params[0] === undefined ? 'give a sub-command' : `unknown command '${params[0]}'`;
    process.stderr.write(`error: ${given}: ${this.usage}\n`);
    this.command.outputHelp({ error: true });
    process.exitCode = ExitCode.USAGE;
  }
}
