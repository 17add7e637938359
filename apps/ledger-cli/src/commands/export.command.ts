import { exportJsonl, UnreadableEventError, type ExportSelection, type ExportSummary } from '@app/event-store';
import { Command, Option } from 'nest-commander';
import { ExitCode, InvalidOptionValueError, messageOf, UsageError } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { bigintOption, flagOption, parsePosition, parseStreamId, stringOption } from '../options';
import { FileLineSink, type LineSink } from '../output';
import { auditProgressListener } from '../progress';

/** The formats export writes; JSON lines only for now (CSV belongs to the finance read models, not to raw events). */
const EXPORT_FORMATS = ['jsonl'] as const;

interface ExportCommandOptions {
  readonly selection: ExportSelection;
  readonly outPath: string | undefined;
  readonly fromPosition: bigint | undefined;
}

/** `ledger export (--stream S | --all) [--format jsonl] [--out FILE] [--from-position N]`. */
@Command({
  name: 'export',
  description: 'write events as JSON lines, one canonical JSON object per event, to stdout or a file',
})
export class ExportCommand extends LedgerCommand<ExportCommandOptions> {
  @Option({ flags: '--stream <streamId>', description: 'export one stream, in revision order' })
  parseStream(value: string): string {
    return parseStreamId(value);
  }

  @Option({ flags: '--all', description: 'export the whole log, in position order' })
  parseAll(): boolean {
    return true;
  }

  @Option({ flags: '--format <format>', description: 'output format', choices: [...EXPORT_FORMATS], defaultValue: 'jsonl' })
  parseFormat(value: string): string {
    // nest-commander replaces commander's own choices check with this parser, so the check is made here.
    if (!(EXPORT_FORMATS as readonly string[]).includes(value)) {
      throw new InvalidOptionValueError(`Allowed choices are ${EXPORT_FORMATS.join(', ')}.`);
    }
    return value;
  }

  @Option({ flags: '--out <file>', description: 'write to this file (complete or absent: it appears only once the export succeeds)' })
  parseOut(value: string): string {
    if (value === '') throw new InvalidOptionValueError('must be a file path');
    return value;
  }

  @Option({ flags: '--from-position <position>', description: 'leave out events before this log position' })
  parseFromPosition(value: string): bigint {
    return parsePosition(value);
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): ExportCommandOptions {
    const streamId = stringOption(raw, 'stream');
    const all = flagOption(raw, 'all');
    if ((streamId === undefined) === !all) throw new UsageError('give exactly one of --stream <streamId> or --all');
    return {
      selection: streamId === undefined ? { all: true } : { streamId },
      outPath: stringOption(raw, 'out'),
      fromPosition: bigintOption(raw, 'fromPosition'),
    };
  }

  protected async execute(options: ExportCommandOptions, context: CommandContext): Promise<number> {
    const sink = options.outPath === undefined ? context.stdout : await openOutFile(options.outPath);
    const summary = await this.exportTo(sink, options, context);
    if (options.outPath !== undefined) {
      await context.printResult({
        text: `export: ${summary.events} events written to ${options.outPath}`,
        json: { events: summary.events, headPosition: summary.headPosition?.toString() ?? null, out: options.outPath },
      });
    }
    return ExitCode.OK;
  }

  private async exportTo(sink: LineSink, options: ExportCommandOptions, context: CommandContext): Promise<ExportSummary> {
    const { store, signal } = context;
    const progress = context.progress('export');
    const streamTotal = 'streamId' in options.selection ? await streamEventCount(context, options.selection.streamId) : undefined;
    try {
      const summary = await exportJsonl(store, options.selection, (line) => sink.writeLine(line), {
        fromPosition: options.fromPosition,
        signal,
        onProgress: auditProgressListener(progress, streamTotal),
      });
      // stdout is closed by the base once the command returns; a file is renamed into place here.
      if (sink !== context.stdout) await sink.close();
      return summary;
    } catch (error) {
      if (sink !== context.stdout) await sink.abandon();
      if (error instanceof UnreadableEventError) throw new Error(`${error.message} (run \`ledger verify\` to check the log)`);
      throw error;
    } finally {
      progress.finish();
    }
  }
}

async function streamEventCount(context: CommandContext, streamId: string): Promise<number> {
  const revision = await context.store.streamRevision(streamId);
  return revision === undefined ? 0 : Number(revision) + 1;
}

async function openOutFile(path: string): Promise<FileLineSink> {
  try {
    return await FileLineSink.create(path);
  } catch (error) {
    throw new UsageError(`cannot write --out ${path}: ${messageOf(error)}`);
  }
}
