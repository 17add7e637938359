import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { dirname, join } from 'node:path';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import { jwkThumbprint, parseAttesterKeys } from '../second-factor/attester-keys';
import { attesterFromJwk, generateAttester, privateJwk, publicJwk, type Attester } from '../second-factor/attester';

/**
 * Signed checkpoints of the Merkle tree (issue 13): a compact JWS (EdDSA) over `{ treeSize, rootHash, headPosition,
 * issuedAt }`. Whoever keeps them outside the database, with the public key, can later prove that the history under
 * each was not rewritten, truncated or reordered (`ledger verify --against`), without trusting the ledger.
 */
export const CHECKPOINTS_STREAM = 'checkpoints';
export const CHECKPOINT_ISSUED = 'CheckpointIssued';
export const CHECKPOINT_JWS_TYPE = 'ledger-checkpoint+jws';
export const CHECKPOINT_KEY_FILE = 'checkpoint-key.json';

export interface CheckpointBody {
  readonly treeSize: number;
  /** The tree head, base64 (RFC 9162 MTH). */
  readonly rootHash: string;
  /** The log position of the tree's last leaf; null for the empty tree. */
  readonly headPosition: string | null;
  readonly issuedAt: string;
}

/** What the checkpoints stream and the external sink hold: the body, the key id and the signed form. */
export interface SignedCheckpoint extends CheckpointBody {
  readonly kid: string;
  readonly jws: string;
}

/** The ledger's checkpoint signing key (an Ed25519 key pair and its kid, the RFC 7638 thumbprint). */
export type CheckpointKey = Attester;

export class CheckpointError extends Error {}

export async function signCheckpoint(key: CheckpointKey, body: CheckpointBody): Promise<SignedCheckpoint> {
  const payload = new TextEncoder().encode(JSON.stringify({ treeSize: body.treeSize, rootHash: body.rootHash, headPosition: body.headPosition, issuedAt: body.issuedAt }));
  const jws = await new CompactSign(payload).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: CHECKPOINT_JWS_TYPE }).sign(key.privateKey);
  return { ...body, kid: key.kid, jws };
}

/** Checks a checkpoint's signature with the public key; returns what it signed. Throws CheckpointError naming why not. */
export async function verifyCheckpoint(jws: string, publicKey: KeyObject): Promise<CheckpointBody & { kid: string }> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new CheckpointError('is not a compact JWS');
  }
  if (header.alg !== 'EdDSA' || header.typ !== CHECKPOINT_JWS_TYPE) throw new CheckpointError(`is not a ledger checkpoint (alg ${String(header.alg)}, typ ${String(header.typ)})`);
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jws, publicKey, { algorithms: ['EdDSA'] }));
  } catch {
    throw new CheckpointError(`has a signature that the public key ${jwkThumbprint(publicKey)} does not verify`);
  }
  const body = JSON.parse(new TextDecoder().decode(payload)) as Partial<CheckpointBody>;
  if (!Number.isSafeInteger(body.treeSize) || (body.treeSize as number) < 0 || typeof body.rootHash !== 'string' || typeof body.issuedAt !== 'string') {
    throw new CheckpointError('signs no treeSize, rootHash and issuedAt');
  }
  return { treeSize: body.treeSize as number, rootHash: body.rootHash, headPosition: body.headPosition ?? null, issuedAt: body.issuedAt, kid: String(header.kid) };
}

/** A public key for offline verification: a JWK, a JWK set (its first key) or PEM. */
export function parseCheckpointPublicKey(text: string): KeyObject {
  const [first] = parseAttesterKeys(text);
  if (first === undefined) throw new CheckpointError('holds no public key');
  return first.publicKey;
}

export function checkpointPublicJwk(key: CheckpointKey): Record<string, string> {
  return publicJwk(key);
}

/** LEDGER_CHECKPOINT_KEY: a private JWK (as `ledger attester keygen` prints one) or a PKCS #8 PEM private key. */
export function parseCheckpointKey(raw: string): CheckpointKey {
  const text = raw.trim();
  if (text.startsWith('{')) return attesterFromJwk(text);
  const privateKey = createPrivateKey(text);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new CheckpointError('is not an Ed25519 private key');
  const { d: _private, ...publicPart } = privateKey.export({ format: 'jwk' });
  const publicKey = createPublicKey({ key: publicPart as JsonWebKey, format: 'jwk' });
  return { kid: jwkThumbprint(publicKey), privateKey, publicKey };
}

/**
 * The configured key, or the one generated on first start and kept in the data folder (mode 0600), as the API keys
 * are. `generated` says which, so that start-up can name the file an operator should back up.
 */
export function loadOrCreateCheckpointKey(raw: string | null, dataDir: string): { key: CheckpointKey; generatedAt: string | null } {
  if (raw !== null) return { key: parseCheckpointKey(raw), generatedAt: null };
  const path = join(dataDir, CHECKPOINT_KEY_FILE);
  if (existsSync(path)) return { key: attesterFromJwk(readFileSync(path, 'utf8')), generatedAt: null };
  const key = generateAttester();
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.partial-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(privateJwk(key))}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return { key, generatedAt: path };
}
