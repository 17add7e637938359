import { Module } from '@nestjs/common';
import { ATTESTER_COMMANDS } from './commands/attester.command';
import { AUDIT_COMMANDS } from './commands/audit.command';
import { ExportCommand } from './commands/export.command';
import { IncidentCommand } from './commands/incident.command';
import { KEYS_COMMANDS } from './commands/keys.command';
import { ProjectCommand } from './commands/project.command';
import { RebuildCommand } from './commands/rebuild.command';
import { ReconcileCommand } from './commands/reconcile.command';
import { ReportCommand } from './commands/report.command';
import { VerifyCommand } from './commands/verify.command';
import { LedgerProgram } from './program';

/** Every ledger command is a provider here; a new command is one class extending LedgerCommand and one line below. */
@Module({ providers: [LedgerProgram, VerifyCommand, ExportCommand, ProjectCommand, RebuildCommand, ReconcileCommand, ReportCommand, IncidentCommand, ...KEYS_COMMANDS, ...ATTESTER_COMMANDS, ...AUDIT_COMMANDS] })
export class LedgerCliModule {}
