import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { SecondFactorAction, TwoFactorMethod } from '@app/domain';
import { SignJWT } from 'jose';
import { DEFAULT_SECOND_FACTOR_AUDIENCE, jwkThumbprint } from './attester-keys';
import { SecondFactorVerifier } from './verifier';

/**
 * The signing side, as the exchange's authentication service would run it after the customer entered the factor:
 * for development (`ledger attester keygen|sign`), the tests, the incident scenario and the bench. In production the
 * private key never comes near the ledger.
 */
export interface Attester {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** The transaction a proof authorises, and the factor entered for it. */
export interface ProofRequest {
  readonly accountId: string;
  readonly act: SecondFactorAction;
  readonly tokenId: string;
  readonly amr: readonly TwoFactorMethod[];
  readonly asset: string;
  readonly address: string;
  /** Withdrawals only. */
  readonly withdrawalId?: string;
  /** Withdrawals only: the canonical decimal string the command sends. */
  readonly amount?: string;
  /** Seconds since the epoch; defaults to now. */
  readonly issuedAt?: number;
  /** Seconds; 300 at most is accepted. Defaults to 120. */
  readonly ttlSeconds?: number;
  readonly jti?: string;
  readonly audience?: string;
}

export function generateAttester(kid?: string): Attester {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { kid: kid ?? jwkThumbprint(publicKey), privateKey, publicKey };
}

/** PKCS #8 DER of an Ed25519 private key is this prefix and the key's 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * An attester whose key is derived from a passphrase: the same passphrase, the same key, so a simulation that signs
 * proofs (the incident scenario, with its seed) writes a byte-identical log on every run. Never for real keys.
 */
export function deterministicAttester(passphrase: string, kid: string): Attester {
  const seed = createHash('sha256').update(passphrase).digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { kid, privateKey, publicKey: createPublicKey(privateKey) };
}

/** An attester from its private JWK (what `ledger attester keygen` prints as LEDGER_ATTESTER_KEY). */
export function attesterFromJwk(json: string): Attester {
  const jwk = JSON.parse(json) as { kid?: string; d?: string };
  if (typeof jwk.d !== 'string') throw new Error('not a private JWK (no "d")');
  const privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
  const { d: _private, ...publicPart } = privateKey.export({ format: 'jwk' });
  const publicKey = createPublicKey({ key: publicPart, format: 'jwk' });
  return { kid: jwk.kid ?? jwkThumbprint(publicKey), privateKey, publicKey };
}

export function publicJwk(attester: Attester): Record<string, string> {
  return { ...(attester.publicKey.export({ format: 'jwk' }) as Record<string, string>), kid: attester.kid, alg: 'EdDSA', use: 'sig' };
}

export function privateJwk(attester: Attester): Record<string, string> {
  return { ...(attester.privateKey.export({ format: 'jwk' }) as Record<string, string>), kid: attester.kid };
}

/** A verifier that trusts these attesters (and the default audience): what a ledger configured with their keys runs. */
export function verifierFor(...attesters: Attester[]): SecondFactorVerifier {
  return new SecondFactorVerifier(attesters.map(({ kid, publicKey }) => ({ kid, publicKey })), DEFAULT_SECOND_FACTOR_AUDIENCE);
}

/** LEDGER_SECOND_FACTOR_KEYS for these attesters: a JWK set. */
export function attesterKeysEnv(...attesters: Attester[]): string {
  return JSON.stringify({ keys: attesters.map(publicJwk) });
}

/** Signs a proof: a compact JWS (EdDSA) over the transaction's fields. */
export function signProof(attester: Attester, request: ProofRequest): Promise<string> {
  const iat = request.issuedAt ?? Math.floor(Date.now() / 1_000);
  const claims: Record<string, unknown> = {
    sub: request.accountId,
    act: request.act,
    tid: request.tokenId,
    amr: [...request.amr],
    asset: request.asset,
    address: request.address,
    ...(request.withdrawalId === undefined ? {} : { wid: request.withdrawalId }),
    ...(request.amount === undefined ? {} : { amount: request.amount }),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: attester.kid, typ: 'JWT' })
    .setAudience(request.audience ?? DEFAULT_SECOND_FACTOR_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (request.ttlSeconds ?? 120))
    .setJti(request.jti ?? randomUUID())
    .sign(attester.privateKey);
}
