import { readFileSync } from 'node:fs';
import { verifyConsistency, verifyInclusion } from '@app/event-store';
import { CheckpointError, parseCheckpointPublicKey, verifyCheckpoint, type CheckpointBody } from '@app/ledger';
import type { KeyObject } from 'node:crypto';
import { Command, Option, SubCommand } from 'nest-commander';
import { ExitCode, UsageError } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { GroupCommand } from '../group-command';
import type { StoreAccess } from '../open-store';
import { stringOption } from '../options';

/**
 * `ledger audit verify-checkpoint|verify-inclusion|verify-consistency`: an auditor's offline checks (issue 13). They
 * need no ledger: only the checkpoints' public key, the signed checkpoints the auditor kept, and the proofs the ledger
 * answered (GET /v1/audit/proofs/...), saved as files. Exit 0 when the check holds, 1 when it does not, 2 for files
 * that are not what they should be.
 */
abstract class AuditSubCommand<Options> extends LedgerCommand<Options> {
  protected override readonly storeAccess: StoreAccess = 'none';
}

function readText(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${option} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function readJson(path: string, option: string): Record<string, unknown> {
  try {
    return JSON.parse(readText(path, option)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${option} ${path} is not JSON`);
  }
}

function publicKeyFrom(path: string): KeyObject {
  try {
    return parseCheckpointPublicKey(readText(path, '--checkpoint-key'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--checkpoint-key ${path} is not an Ed25519 public key (JWK or PEM)`);
  }
}

/** A checkpoint file: one checkpoint as JSON (with its `jws`), or the bare JWS. Its signed body, or exit 1. */
async function signedBody(path: string, option: string, key: KeyObject): Promise<CheckpointBody | string> {
  const text = readText(path, option).trim();
  const jws = text.startsWith('{') ? (JSON.parse(text) as { jws?: unknown }).jws : text;
  if (typeof jws !== 'string') throw new UsageError(`${option} ${path} holds no checkpoint (no jws)`);
  try {
    return await verifyCheckpoint(jws, key);
  } catch (error) {
    if (error instanceof CheckpointError) return `${option} ${path} ${error.message}`;
    throw error;
  }
}

const hashes = (value: unknown, field: string): Buffer[] => {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new UsageError(`the proof's ${field} must be a list of base64 hashes`);
  return value.map((item) => Buffer.from(item as string, 'base64'));
};

const requiredString = (raw: Readonly<Record<string, unknown>>, name: string, flag: string): string => {
  const value = stringOption(raw, name);
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return value;
};

interface VerifyCheckpointOptions {
  readonly key: string;
  readonly checkpoint: string;
}

@SubCommand({ name: 'verify-checkpoint', description: 'check that a checkpoint is signed by the public key; print what it signed' })
export class AuditVerifyCheckpointCommand extends AuditSubCommand<VerifyCheckpointOptions> {
  @Option({ flags: '--checkpoint-key <file>', description: 'the public key (JWK or PEM)', required: true })
  parseKey(value: string): string {
    return value;
  }

  @Option({ flags: '--checkpoint <file>', description: 'the checkpoint: a JSON line as kept, or the bare JWS', required: true })
  parseCheckpoint(value: string): string {
    return value;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): VerifyCheckpointOptions {
    return { key: requiredString(raw, 'checkpointKey', '--checkpoint-key'), checkpoint: requiredString(raw, 'checkpoint', '--checkpoint') };
  }

  protected async execute(options: VerifyCheckpointOptions, context: CommandContext): Promise<number> {
    const body = await signedBody(options.checkpoint, '--checkpoint', publicKeyFrom(options.key));
    if (typeof body === 'string') {
      await context.printResult({ text: `audit verify-checkpoint: FAILED: ${body}`, json: { ok: false, reason: body } });
      return ExitCode.CHECK_FAILED;
    }
    await context.printResult({
      text: `audit verify-checkpoint: OK: tree size ${body.treeSize}, root ${body.rootHash}, head position ${body.headPosition ?? 'none'}, signed ${body.issuedAt}`,
      json: { ok: true, checkpoint: body },
    });
    return ExitCode.OK;
  }
}

interface VerifyInclusionOptions extends VerifyCheckpointOptions {
  readonly proof: string;
}

@SubCommand({ name: 'verify-inclusion', description: "check an inclusion proof (GET /v1/audit/proofs/inclusion) against a signed checkpoint's head" })
export class AuditVerifyInclusionCommand extends AuditSubCommand<VerifyInclusionOptions> {
  @Option({ flags: '--checkpoint-key <file>', description: 'the public key (JWK or PEM)', required: true })
  parseKey(value: string): string {
    return value;
  }

  @Option({ flags: '--checkpoint <file>', description: 'the checkpoint the proof is for (its tree size)', required: true })
  parseCheckpoint(value: string): string {
    return value;
  }

  @Option({ flags: '--proof <file>', description: 'the proof as the ledger answered it', required: true })
  parseProof(value: string): string {
    return value;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): VerifyInclusionOptions {
    return { key: requiredString(raw, 'checkpointKey', '--checkpoint-key'), checkpoint: requiredString(raw, 'checkpoint', '--checkpoint'), proof: requiredString(raw, 'proof', '--proof') };
  }

  protected async execute(options: VerifyInclusionOptions, context: CommandContext): Promise<number> {
    const body = await signedBody(options.checkpoint, '--checkpoint', publicKeyFrom(options.key));
    const proof = readJson(options.proof, '--proof');
    const failure = async (reason: string): Promise<number> => {
      await context.printResult({ text: `audit verify-inclusion: FAILED: ${reason}`, json: { ok: false, reason } });
      return ExitCode.CHECK_FAILED;
    };
    if (typeof body === 'string') return failure(body);
    const { leafIndex, treeSize, leafHash, position } = proof;
    if (typeof leafIndex !== 'number' || typeof treeSize !== 'number' || typeof leafHash !== 'string') throw new UsageError('the proof needs leafIndex, treeSize, leafHash and inclusionPath');
    if (treeSize !== body.treeSize) return failure(`the proof is for a tree of ${treeSize} leaves, the checkpoint signed ${body.treeSize}`);
    if (!verifyInclusion(Buffer.from(leafHash, 'base64'), leafIndex, treeSize, hashes(proof['inclusionPath'], 'inclusionPath'), Buffer.from(body.rootHash, 'base64'))) {
      return failure(`the audit path does not lead from leaf ${leafIndex} to the signed root ${body.rootHash}`);
    }
    await context.printResult({
      text: `audit verify-inclusion: OK: the event at position ${String(position ?? '?')} (leaf ${leafIndex}) is in the signed tree of ${treeSize} leaves`,
      json: { ok: true, leafIndex, treeSize, position: position ?? null },
    });
    return ExitCode.OK;
  }
}

interface VerifyConsistencyOptions {
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly proof: string;
}

@SubCommand({ name: 'verify-consistency', description: 'check a consistency proof (GET /v1/audit/proofs/consistency) between two signed checkpoints' })
export class AuditVerifyConsistencyCommand extends AuditSubCommand<VerifyConsistencyOptions> {
  @Option({ flags: '--checkpoint-key <file>', description: 'the public key (JWK or PEM)', required: true })
  parseKey(value: string): string {
    return value;
  }

  @Option({ flags: '--from <file>', description: 'the older checkpoint', required: true })
  parseFrom(value: string): string {
    return value;
  }

  @Option({ flags: '--to <file>', description: 'the newer checkpoint', required: true })
  parseTo(value: string): string {
    return value;
  }

  @Option({ flags: '--proof <file>', description: 'the proof as the ledger answered it', required: true })
  parseProof(value: string): string {
    return value;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): VerifyConsistencyOptions {
    return {
      key: requiredString(raw, 'checkpointKey', '--checkpoint-key'),
      from: requiredString(raw, 'from', '--from'),
      to: requiredString(raw, 'to', '--to'),
      proof: requiredString(raw, 'proof', '--proof'),
    };
  }

  protected async execute(options: VerifyConsistencyOptions, context: CommandContext): Promise<number> {
    const key = publicKeyFrom(options.key);
    const [older, newer] = [await signedBody(options.from, '--from', key), await signedBody(options.to, '--to', key)];
    const proof = readJson(options.proof, '--proof');
    const failure = async (reason: string): Promise<number> => {
      await context.printResult({ text: `audit verify-consistency: FAILED: ${reason}`, json: { ok: false, reason } });
      return ExitCode.CHECK_FAILED;
    };
    if (typeof older === 'string') return failure(older);
    if (typeof newer === 'string') return failure(newer);
    if (proof['from'] !== older.treeSize || proof['to'] !== newer.treeSize) {
      return failure(`the proof is from ${String(proof['from'])} to ${String(proof['to'])} leaves, the checkpoints signed ${older.treeSize} and ${newer.treeSize}`);
    }
    const ok = verifyConsistency(older.treeSize, newer.treeSize, Buffer.from(older.rootHash, 'base64'), Buffer.from(newer.rootHash, 'base64'), hashes(proof['consistencyPath'], 'consistencyPath'));
    if (!ok) return failure(`the tree of ${older.treeSize} leaves signed ${older.issuedAt} is not a prefix of the tree of ${newer.treeSize} signed ${newer.issuedAt}: history under the older checkpoint changed`);
    await context.printResult({
      text: `audit verify-consistency: OK: the tree of ${older.treeSize} leaves (signed ${older.issuedAt}) is a prefix of the tree of ${newer.treeSize} (signed ${newer.issuedAt})`,
      json: { ok: true, from: older.treeSize, to: newer.treeSize },
    });
    return ExitCode.OK;
  }
}

/** `ledger audit <verify-checkpoint|verify-inclusion|verify-consistency>`. */
@Command({
  name: 'audit',
  description: "an auditor's offline checks of signed checkpoints and the ledger's proofs, with the public key alone",
  subCommands: [AuditVerifyCheckpointCommand, AuditVerifyInclusionCommand, AuditVerifyConsistencyCommand],
})
export class AuditCommand extends GroupCommand {
  protected readonly usage = 'audit verify-checkpoint, verify-inclusion or verify-consistency';
}

export const AUDIT_COMMANDS = [AuditCommand, AuditVerifyCheckpointCommand, AuditVerifyInclusionCommand, AuditVerifyConsistencyCommand];
