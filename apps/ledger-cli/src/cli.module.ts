import { Module } from '@nestjs/common';
import { ExportCommand } from './commands/export.command';
import { VerifyCommand } from './commands/verify.command';
import { LedgerProgram } from './program';

/** Every ledger command is a provider here; a new command is one class extending LedgerCommand and one line below. */
@Module({ providers: [LedgerProgram, VerifyCommand, ExportCommand] })
export class LedgerCliModule {}
