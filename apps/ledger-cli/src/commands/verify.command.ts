import { readFileSync } from 'node:fs';
import { verifyEventStore, verifyReportView, verifyStream, type VerifyFailure, type VerifyReport } from '@app/event-store';
import { parseCheckpointPublicKey, verifyAgainstCheckpoints, type CheckpointVerification } from '@app/ledger';
import type { ReadStore } from '@app/projections';
import { Command, Option } from 'nest-commander';
import { ExitCode, UsageError } from '../cli-errors';
import { openConfiguredReadStore } from '../open-store';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { parseStreamId, stringOption } from '../options';
import { auditProgressListener } from '../progress';

interface VerifyCommandOptions {
  /** One stream, or every stream when undefined. */
  readonly streamId: string | undefined;
  /** --against: a file of signed checkpoints (JSON lines), and --checkpoint-key: the public key that signed them. */
  readonly against: { readonly lines: string[]; readonly file: string; readonly keyFile: string; readonly publicKey: ReturnType<typeof parseCheckpointPublicKey> } | undefined;
}

/**
 * `ledger verify [--stream S] [--against CHECKPOINTS --checkpoint-key KEY] [--json]`: the hash chain (DESIGN §6), and
 * with --against the Merkle tree recomputed from the log against every signed checkpoint; exit 1 names the first
 * event that does not hold.
 */
@Command({
  name: 'verify',
  description: 'check the hash chain of every stream and report the first event that does not hold (exit 1)',
})
export class VerifyCommand extends LedgerCommand<VerifyCommandOptions> {
  @Option({ flags: '--stream <streamId>', description: 'verify one stream only' })
  parseStream(value: string): string {
    return parseStreamId(value);
  }

  @Option({ flags: '--against <file>', description: 'also check the log against signed checkpoints (JSON lines, as LEDGER_CHECKPOINT_FILE keeps them)' })
  parseAgainst(value: string): string {
    return value;
  }

  @Option({ flags: '--checkpoint-key <file>', description: "the checkpoints' public key (JWK or PEM, from GET /v1/audit/checkpoint-key), kept apart from the ledger" })
  parseCheckpointKey(value: string): string {
    return value;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): VerifyCommandOptions {
    const file = stringOption(raw, 'against');
    const keyFile = stringOption(raw, 'checkpointKey');
    if ((file === undefined) !== (keyFile === undefined)) throw new UsageError('--against and --checkpoint-key go together: the checkpoints and the public key that signed them');
    if (file === undefined || keyFile === undefined) return { streamId: stringOption(raw, 'stream'), against: undefined };
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
    return { streamId: stringOption(raw, 'stream'), against: { lines: read(file, '--against').split('\n'), file, keyFile, publicKey } };
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
    let checkpoints: CheckpointVerification | undefined;
    if (options.against !== undefined) {
      let readStore: ReadStore | undefined;
      try {
        readStore = await openConfiguredReadStore(context.config, 'existing');
      } catch {
        readStore = undefined;
      }
      try {
        checkpoints = await verifyAgainstCheckpoints(store, options.against.lines, options.against.publicKey, readStore);
      } finally {
        await readStore?.close();
      }
    }
    const json = { ...verifyReportView(report), ...(checkpoints === undefined ? {} : { checkpoints: checkpointView(checkpoints) }) };
    const text = [describeReport(report, options.streamId), ...(checkpoints === undefined ? [] : [describeCheckpoints(checkpoints, options.against!.file)])].join('\n');
    await context.printResult({ json, text });
    return report.ok && (checkpoints?.ok ?? true) ? ExitCode.OK : ExitCode.CHECK_FAILED;
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
