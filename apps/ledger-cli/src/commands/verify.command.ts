import { accessSync, constants, createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  UnknownStreamError,
  verifyEventStore,
  verifyExportLines,
  verifyReportView,
  verifyStream,
  type VerifyFailure,
  type VerifyReport,
} from '@app/event-store';
import { parseCheckpointPublicKey, verifyAgainstCheckpoints, type CheckpointVerification } from '@app/ledger';
import type { ReadStore } from '@app/projections';
import { Command, Option } from 'nest-commander';
import { ExitCode, UsageError } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import type { StoreAccess } from '../open-store';
import { parseStreamId, stringOption } from '../options';
import { auditProgressListener } from '../progress';

interface VerifyCommandOptions {
  /** One stream, or every stream when undefined. */
  readonly streamId: string | undefined;
  /** --file: an exported JSONL file, verified offline (the store is not opened). */
  readonly file: string | undefined;
  /** --against: a file of signed checkpoints (JSON lines), and --checkpoint-key: the public key that signed them. */
  readonly against: { readonly lines: string[]; readonly file: string; readonly keyFile: string; readonly publicKey: ReturnType<typeof parseCheckpointPublicKey> } | undefined;
}

/**
 * `ledger verify [--stream S | --file EXPORT.jsonl] [--against CHECKPOINTS --checkpoint-key KEY] [--json]`: the hash
 * chain (each event's hash covers its content and the previous event's hash, so an edit anywhere shows), and with
 * --against the Merkle tree recomputed from the log against every signed checkpoint; exit 1 names every event that
 * does not hold (up to MAX_REPORTED_FAILURES), or a stream that does not exist.
 */
@Command({
  name: 'verify',
  description: 'check the hash chain of every stream (or of an exported file) and report every event that does not hold (exit 1)',
})
export class VerifyCommand extends LedgerCommand<VerifyCommandOptions> {
  @Option({ flags: '--stream <streamId>', description: 'verify one stream only' })
  parseStream(value: string): string {
    return parseStreamId(value);
  }

  @Option({ flags: '--file <export.jsonl>', description: 'verify an exported JSONL file offline (ledger export), without opening the ledger' })
  parseFile(value: string): string {
    return value;
  }

  @Option({ flags: '--against <file>', description: 'also check the log against signed checkpoints (JSON lines, as LEDGER_CHECKPOINT_FILE keeps them)' })
  parseAgainst(value: string): string {
    return value;
  }

  @Option({ flags: '--checkpoint-key <file>', description: "the checkpoints' public key (JWK or PEM, from GET /v1/audit/checkpoint-key), kept apart from the ledger" })
  parseCheckpointKey(value: string): string {
    return value;
  }

  protected override storeAccessFor(options: VerifyCommandOptions): StoreAccess {
    return options.file === undefined ? 'existing' : 'none';
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): VerifyCommandOptions {
    const file = stringOption(raw, 'against');
    const keyFile = stringOption(raw, 'checkpointKey');
    const exported = stringOption(raw, 'file');
    const streamId = stringOption(raw, 'stream');
    if ((file === undefined) !== (keyFile === undefined)) throw new UsageError('--against and --checkpoint-key go together: the checkpoints and the public key that signed them');
    if (exported !== undefined) return { streamId: undefined, file: readableExport(exported, streamId, file), against: undefined };
    if (file === undefined || keyFile === undefined) return { streamId, file: undefined, against: undefined };
    const read = (path: string, what: string): string => {
      try {
        return readFileSync(path, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    let publicKey: ReturnType<typeof parseCheckpointPublicKey>;
    try {
      publicKey = parseCheckpointPublicKey(read(keyFile, '--checkpoint-key'));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--checkpoint-key ${keyFile} is not an Ed25519 public key (JWK or PEM): ${error instanceof Error ? error.message : String(error)}`);
    }
    return { streamId, file: undefined, against: { lines: read(file, '--against').split('\n'), file, keyFile, publicKey } };
  }

  protected async execute(options: VerifyCommandOptions, context: CommandContext): Promise<number> {
    if (options.file !== undefined) {
      const report = await verifyExportFile(options.file, context.signal);
      await context.printResult({ json: { file: options.file, ...verifyReportView(report) }, text: describeReport(report, { file: options.file }) });
      return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
    }
    let report: VerifyReport;
    try {
      report = await this.verifyLedger(options, context);
    } catch (error) {
      if (!(error instanceof UnknownStreamError)) throw error;
      await context.printResult({ json: { ok: false, streamId: error.streamId, code: error.code, message: error.message }, text: `verify: FAILED: ${error.message}` });
      return ExitCode.CHECK_FAILED;
    }
    let checkpoints: CheckpointVerification | undefined;
    if (options.against !== undefined) {
      let readStore: ReadStore | undefined;
      try {
        readStore = await context.openReadStore('existing');
      } catch {
        readStore = undefined;
      }
      try {
        checkpoints = await verifyAgainstCheckpoints(context.store, options.against.lines, options.against.publicKey, readStore);
      } finally {
        await readStore?.close();
      }
    }
    const json = { ...verifyReportView(report), ...(checkpoints === undefined ? {} : { checkpoints: checkpointView(checkpoints) }) };
    const text = [describeReport(report, { streamId: options.streamId }), ...(checkpoints === undefined ? [] : [describeCheckpoints(checkpoints, options.against!.file)])].join('\n');
    await context.printResult({ json, text });
    return report.ok && (checkpoints?.ok ?? true) ? ExitCode.OK : ExitCode.CHECK_FAILED;
  }

  private async verifyLedger(options: VerifyCommandOptions, context: CommandContext): Promise<VerifyReport> {
    const { store, signal } = context;
    const progress = context.progress('verify');
    try {
      if (options.streamId === undefined) return await verifyEventStore(store, { signal, onProgress: auditProgressListener(progress) });
      const revision = await store.streamRevision(options.streamId);
      const total = revision === undefined ? 0 : Number(revision) + 1;
      return await verifyStream(store, options.streamId, { signal, onProgress: auditProgressListener(progress, total) });
    } finally {
      progress.finish();
    }
  }
}

/** --file goes alone: it checks a file, not the ledger, so --stream and --against have nothing to apply to. */
function readableExport(path: string, streamId: string | undefined, against: string | undefined): string {
  if (streamId !== undefined || against !== undefined) throw new UsageError('--file verifies an exported file on its own: leave out --stream and --against');
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new UsageError(`cannot read --file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return path;
}

async function verifyExportFile(path: string, signal: AbortSignal): Promise<VerifyReport> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    return await verifyExportLines(lines, { signal });
  } finally {
    lines.close();
  }
}

function checkpointView(result: CheckpointVerification) {
  const failure = result.failure;
  return {
    ok: result.ok,
    checkpointsChecked: result.checkpointsChecked,
    logEvents: result.logEvents,
    largestTreeSize: result.largestTreeSize,
    ...(failure === undefined
      ? {}
      : { failure: { ...failure, firstPosition: failure.firstPosition?.toString() ?? null } }),
  };
}

function describeCheckpoints(result: CheckpointVerification, file: string): string {
  if (result.ok) {
    const after = result.logEvents - result.largestTreeSize;
    return `verify --against: OK: ${plural(result.checkpointsChecked, 'signed checkpoint')} of ${file} hold (largest tree size ${result.largestTreeSize}); the log has ${plural(result.logEvents, 'event')}${after > 0 ? `, the last ${after} after the newest checkpoint` : ''}`;
  }
  const failure = result.failure!;
  const which = failure.checkpoint === null ? `line ${failure.line}` : `the checkpoint of tree size ${failure.checkpoint.treeSize} (line ${failure.line}, signed ${failure.checkpoint.issuedAt})`;
  return [`verify --against: FAILED: ${failure.reason} under ${which}${failure.firstPosition === null ? '' : ` at position ${failure.firstPosition}`}`, `  ${failure.detail}`].join('\n');
}

function describeReport(report: VerifyReport, what: { readonly streamId?: string; readonly file?: string }): string {
  const head =
    what.file !== undefined
      ? `file ${what.file}${report.headPosition === undefined ? ', no events' : `, last position ${report.headPosition}`}`
      : report.headPosition === undefined ? 'the log is empty' : `log head at position ${report.headPosition}`;
  const events = plural(report.eventsChecked, 'event');
  const counted = what.streamId === undefined ? `${events} in ${plural(report.streamsChecked, 'stream')}` : `${events} of stream ${what.streamId}`;
  const failures = report.failures ?? [];
  if (failures.length === 0) return `verify: OK: ${counted} hold (${head})`;
  const count = report.failureCount ?? failures.length;
  const lines = failures.flatMap((failure) => [`  ${failure.reason} at ${describeWhere(failure)}`, `    ${failure.detail}`]);
  const omitted = count - failures.length;
  return [
    `verify: FAILED: ${plural(count, 'event')} ${count === 1 ? 'does' : 'do'} not hold; ${counted} held (${head})`,
    ...lines,
    ...(omitted > 0 ? [`  ... and ${omitted} more (the first ${failures.length} are listed)`] : []),
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
