import { Module } from '@nestjs/common';
import { LedgerStoresModule } from '@app/ledger';
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

/**
 * Every ledger command is a provider here; a new command is one class extending LedgerCommand and one line below.
 * The stores are opened through LedgerStoresModule, as the API's LedgerModule opens them; the rest of LedgerModule
 * (the projector, the jobs, the checkpoint key) is not loaded, so that a command starts at once and opens only what
 * it needs, when it needs it.
 */
@Module({ imports: [LedgerStoresModule], providers: [LedgerProgram, VerifyCommand, ExportCommand, ProjectCommand, RebuildCommand, ReconcileCommand, ReportCommand, IncidentCommand, ...KEYS_COMMANDS, ...ATTESTER_COMMANDS, ...AUDIT_COMMANDS] })
export class LedgerCliModule {}
