import 'reflect-metadata';
import { LedgerCliModule } from './cli.module';
import { runCommandLine } from './command-line';

/** `ledger <command> [options]`: the operator CLI, on the server's stores; it needs production dependencies only. */
runCommandLine(LedgerCliModule, 'ledger');
