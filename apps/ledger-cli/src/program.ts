import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectCommander } from 'nest-commander';
import type { CommanderCommand } from './ledger-command';

/** The root `ledger` program: its name and help, and the help shown after any usage error. */
@Injectable()
export class LedgerProgram implements OnModuleInit {
  constructor(@InjectCommander() private readonly program: CommanderCommand) {}

  onModuleInit(): void {
    this.program
      .name('ledger')
      .description('Audit and operate the withdrawal & incident ledger on LEDGER_EVENT_STORE (default sqlite:./data/ledger.db).')
      .showHelpAfterError()
      .addHelpText(
        'after',
        '\nExit codes: 0 ok; 1 the check found a failure; 2 bad arguments or configuration; 3 any other failure;\n' +
          '130/143 stopped by SIGINT/SIGTERM. Every command takes --json; progress goes to stderr, results to stdout.',
      );
  }
}
