import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The audience a proof must name (`aud`) unless LEDGER_SECOND_FACTOR_AUDIENCE says otherwise. */
export const DEFAULT_SECOND_FACTOR_AUDIENCE = 'withdrawal-ledger';
/** Keys one configuration may hold: enough for a rotation or two, and a bound on a hostile variable. */
export const MAX_ATTESTER_KEYS = 16;

/** One attester public key (Ed25519) and the key id (`kid`) its proofs carry. */
export interface AttesterKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
}

/** A bad LEDGER_SECOND_FACTOR_KEYS; the config loader turns it into a ConfigError naming the variable. */
export class AttesterKeyError extends Error {}

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;
const KID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** RFC 7638: the SHA-256 thumbprint of an Ed25519 public JWK, the kid of a key given as PEM (which has no kid). */
export function jwkThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' }) as { crv: string; kty: string; x: string };
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`;
  return base64url(createHash('sha256').update(canonical).digest());
}

function ed25519(key: KeyObject, where: string): KeyObject {
  if (key.type !== 'public') throw new AttesterKeyError(`${where} is a private key: configure the attester's public key only`);
  if (key.asymmetricKeyType !== 'ed25519') throw new AttesterKeyError(`${where} is ${key.asymmetricKeyType ?? 'not'} an Ed25519 key: proofs are EdDSA (Ed25519)`);
  return key;
}

function fromJwk(jwk: unknown, index: number): AttesterKey {
  const where = `key ${index + 1}`;
  if (jwk === null || typeof jwk !== 'object') throw new AttesterKeyError(`${where} is not a JWK object`);
  const { kid, d, ...publicPart } = jwk as Record<string, unknown>;
  if (d !== undefined) throw new AttesterKeyError(`${where} holds a private key ("d"): configure the attester's public key only`);
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) throw new AttesterKeyError(`${where} needs a "kid" of 1 to 128 of A-Z a-z 0-9 _ . : -`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: publicPart as JsonWebKey, format: 'jwk' });
  } catch (error) {
    throw new AttesterKeyError(`${where} (${kid}) is not a valid public JWK: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { kid, publicKey: ed25519(publicKey, `${where} (${kid})`) };
}

function fromJson(raw: string): AttesterKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new AttesterKeyError('is neither JSON (a JWK, an array of JWKs or a JWK set) nor PEM public keys');
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown })?.keys ?? [parsed];
  if (!Array.isArray(list)) throw new AttesterKeyError('"keys" must be an array of JWKs');
  return list.map(fromJwk);
}

function fromPem(raw: string): AttesterKey[] {
  const blocks = raw.match(PEM_BLOCK) ?? [];
  return blocks.map((pem, index) => {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (error) {
      throw new AttesterKeyError(`PEM key ${index + 1} does not parse: ${error instanceof Error ? error.message : String(error)}`);
    }
    const publicKey = ed25519(key, `PEM key ${index + 1}`);
    return { kid: jwkThumbprint(publicKey), publicKey };
  });
}

/**
 * LEDGER_SECOND_FACTOR_KEYS: the attesters' public keys, several at once during a rotation. Either JSON (one JWK, an
 * array of JWKs, or a JWK set `{"keys":[...]}`, each with its `kid`), or one or more PEM public keys, whose kid is
 * then their RFC 7638 thumbprint. Unset: no keys (every proof is refused as signed by an unknown key).
 */
export function parseAttesterKeys(raw: string | undefined): AttesterKey[] {
  if (raw === undefined || raw.trim() === '') return [];
  const keys = raw.trim().startsWith('-----BEGIN') ? fromPem(raw) : fromJson(raw);
  if (keys.length === 0) throw new AttesterKeyError('holds no key');
  if (keys.length > MAX_ATTESTER_KEYS) throw new AttesterKeyError(`holds ${keys.length} keys; at most ${MAX_ATTESTER_KEYS}`);
  const kids = new Set<string>();
  for (const { kid } of keys) {
    if (kids.has(kid)) throw new AttesterKeyError(`names kid ${kid} twice`);
    kids.add(kid);
  }
  return keys;
}
