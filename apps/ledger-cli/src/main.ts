import 'reflect-metadata';
import { LedgerCliModule } from './cli.module';
import { runCommandLine } from './command-line';

/** `ledger <command> [options]` (DESIGN §9): the operator CLI, which needs production dependencies only. */
runCommandLine(LedgerCliModule, 'ledger');
