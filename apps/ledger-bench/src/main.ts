import 'reflect-metadata';
import { runCommandLine } from '../../ledger-cli/src/command-line';
import { LedgerBenchModule } from './bench.module';

/** `node dist/apps/ledger-bench/src/main.js bench [--quick] [--json]` (`npm run bench`). */
runCommandLine(LedgerBenchModule, 'ledger');
