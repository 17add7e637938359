import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withoutCredentials } from '@app/ledger';
import { ALL_PROJECTIONS, ProjectionRunner } from '@app/projections';
import { Command, Option } from 'nest-commander';
import { ExitCode, InvalidOptionValueError, UsageError } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { stringOption } from '../options';
import { yieldingStore } from '../read-models';
import { accountsCsv, FINANCE_FILES, lossesCsv, reimbursementsCsv } from '../report/finance-files';
import { financeHtml } from '../report/finance-html';
import { readIncidentFinance } from '../report/incident-finance';

const INCIDENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

interface ReportCommandOptions {
  readonly incidentId: string;
  readonly out: string;
}

/**
 * `ledger report --incident ID [--out DIR] [--json]`: the finance files of a real incident, from the ledger's own read
 * models (caught up to the head first): accounts.csv, reimbursements.csv, losses.csv and report.html. Exit 1 for an
 * incident the ledger does not hold.
 */
@Command({ name: 'report', description: "write an incident's finance CSVs and HTML report from the ledger's read models" })
export class ReportCommand extends LedgerCommand<ReportCommandOptions> {
  @Option({ flags: '--incident <id>', description: 'the incident, as opened (POST /v1/incidents)' })
  parseIncident(value: string): string {
    if (!INCIDENT_ID.test(value)) throw new InvalidOptionValueError('must be an incident id of 1 to 64 of A-Z a-z 0-9 _ -');
    return value;
  }

  @Option({ flags: '--out <dir>', description: 'the folder to write to (default: report-<incident id>)' })
  parseOut(value: string): string {
    return value;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): ReportCommandOptions {
    const incidentId = stringOption(raw, 'incident');
    if (incidentId === undefined) throw new UsageError('--incident is required: the incident to report on');
    return { incidentId, out: stringOption(raw, 'out') ?? `report-${incidentId}` };
  }

  protected async execute(options: ReportCommandOptions, context: CommandContext): Promise<number> {
    const readStore = await context.openReadStore('create');
    try {
      // The report is of the ledger as it stands: the read models catch up first (safe beside a running projector).
      await new ProjectionRunner({ store: yieldingStore(context.store), readStore, projections: ALL_PROJECTIONS, asOfSnapshotEvery: context.config.asOfSnapshotEvery }).catchUp();
      const finance = await readIncidentFinance(context.store, readStore, options.incidentId);
      if (finance === null) {
        const message = `report: incident ${options.incidentId} does not exist in this ledger`;
        await context.printResult({ text: message, json: { ok: false, code: 'INCIDENT_NOT_FOUND', message } });
        return ExitCode.CHECK_FAILED;
      }
      const ledger = context.config.eventStore.kind === 'sqlite' ? `sqlite:${context.config.eventStore.path}` : withoutCredentials(process.env.LEDGER_EVENT_STORE ?? '');
      const files = {
        [FINANCE_FILES.accounts]: accountsCsv(finance),
        [FINANCE_FILES.reimbursements]: reimbursementsCsv(finance),
        [FINANCE_FILES.losses]: lossesCsv(finance),
        [FINANCE_FILES.html]: financeHtml(finance, { ledger, generatedAt: new Date().toISOString() }),
      };
      await mkdir(options.out, { recursive: true });
      // Each file whole or not at all: written beside, then renamed over.
      for (const [name, text] of Object.entries(files)) {
        await writeFile(join(options.out, `${name}.tmp`), text);
        await rename(join(options.out, `${name}.tmp`), join(options.out, name));
      }
      const summary = { incidentId: options.incidentId, out: options.out, accounts: finance.accounts.length, reimbursements: finance.reimbursements.length, headPosition: finance.headPosition?.toString() ?? null };
      await context.printResult({ text: `report: ${summary.accounts} affected accounts, ${summary.reimbursements} reimbursements; ${Object.keys(files).join(', ')} in ${options.out}`, json: { ok: true, ...summary } });
      return ExitCode.OK;
    } finally {
      await readStore.close();
    }
  }
}
