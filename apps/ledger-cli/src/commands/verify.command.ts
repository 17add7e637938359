import { verifyEventStore, verifyReportView, verifyStream, type VerifyFailure, type VerifyReport } from '@app/event-store';
import { Command, Option } from 'nest-commander';
import { ExitCode } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { parseStreamId, stringOption } from '../options';
import { auditProgressListener } from '../progress';

interface VerifyCommandOptions {
  /** One stream, or every stream when undefined. */
  readonly streamId: string | undefined;
}

/** `ledger verify [--stream S] [--json]`: the hash chain (DESIGN §6); exit 1 names the first event that does not hold. */
@Command({
  name: 'verify',
  description: 'check the hash chain of every stream and report the first event that does not hold (exit 1)',
})
export class VerifyCommand extends LedgerCommand<VerifyCommandOptions> {
  @Option({ flags: '--stream <streamId>', description: 'verify one stream only' })
  parseStream(value: string): string {
    return parseStreamId(value);
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): VerifyCommandOptions {
    return { streamId: stringOption(raw, 'stream') };
  }

  protected async execute(options: VerifyCommandOptions, context: CommandContext): Promise<number> {
    const { store, signal } = context;
    const progress = context.progress('verify');
    let report: VerifyReport;
    try {
      if (options.streamId === undefined) {
        report = await verifyEventStore(store, { signal, onProgress: auditProgressListener(progress) });
      } else {
        const revision = await store.streamRevision(options.streamId);
        const total = revision === undefined ? 0 : Number(revision) + 1;
        report = await verifyStream(store, options.streamId, { signal, onProgress: auditProgressListener(progress, total) });
      }
    } finally {
      progress.finish();
    }
    await context.printResult({ json: verifyReportView(report), text: describeReport(report, options.streamId) });
    return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
  }
}

function describeReport(report: VerifyReport, streamId: string | undefined): string {
  const head = report.headPosition === undefined ? 'the log is empty' : `log head at position ${report.headPosition}`;
  const events = plural(report.eventsChecked, 'event');
  const counted = streamId === undefined ? `${events} in ${plural(report.streamsChecked, 'stream')}` : `${events} of stream ${streamId}`;
  if (report.firstFailure === undefined) return `verify: OK: ${counted} hold (${head})`;
  return [
    `verify: FAILED: ${report.firstFailure.reason} at ${describeWhere(report.firstFailure)}`,
    `  ${report.firstFailure.detail}`,
    `  ${counted} held before it (${head})`,
  ].join('\n');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function describeWhere(failure: VerifyFailure): string {
  const known = (value: string | bigint | undefined): string => (value === undefined ? 'unknown' : String(value));
  const event = failure.eventId === undefined ? '' : `, event ${failure.eventId}`;
  return `stream ${known(failure.streamId)}, revision ${known(failure.revision)}, position ${known(failure.position)}${event}`;
}
