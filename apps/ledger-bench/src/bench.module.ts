import { Module } from '@nestjs/common';
import { LedgerProgram } from '../../ledger-cli/src/program';
import { BenchCommand } from './bench.command';

/**
 * The bench (`npm run bench`): an app of its own, because it runs Emmett and autocannon, which are devDependencies;
 * the operator CLI (apps/ledger-cli), which the image runs with production dependencies only, never loads it.
 */
@Module({ providers: [LedgerProgram, BenchCommand] })
export class LedgerBenchModule {}
