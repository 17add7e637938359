import { createHash } from 'node:crypto';
import { domainError, parseSecondFactorClaims, type VerifiedSecondFactor } from '@app/domain';
import { compactVerify, decodeProtectedHeader, errors } from 'jose';
import type { AttesterKey } from './attester-keys';

/** A compact JWS is three base64url parts; anything longer than this is no proof (and bounds the work on one). */
export const MAX_PROOF_LENGTH = 4_096;
export const COMPACT_JWS_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function invalid(reason: string): never {
  throw domainError('SECOND_FACTOR_INVALID', reason);
}

/**
 * Checks what only keys and configuration can tell of a second-factor proof: that a configured attester key (by its
 * `kid`) signed it with EdDSA, and that it is meant for this ledger (`aud`). One Ed25519 verification per proof.
 * Everything else the proof claims is checked by the decider against the command, the account and the command's
 * time (libs/domain/src/account/second-factor.ts), so that a replay decides as the ledger did.
 */
export class SecondFactorVerifier {
  private readonly keys: ReadonlyMap<string, AttesterKey>;

  constructor(
    keys: readonly AttesterKey[],
    readonly audience: string,
  ) {
    this.keys = new Map(keys.map((key) => [key.kid, key]));
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  async verify(proof: string): Promise<VerifiedSecondFactor> {
    if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS_PATTERN.test(proof)) invalid('not a compact JWS');
    const kid = this.kidOf(proof);
    const key = this.keys.get(kid);
    if (!key) invalid(`signed by unknown key id (kid) ${kid}${this.keys.size === 0 ? ': no attester keys are configured (LEDGER_SECOND_FACTOR_KEYS)' : ''}`);
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(proof, key.publicKey, { algorithms: ['EdDSA'] }));
    } catch (error) {
      if (error instanceof errors.JWSSignatureVerificationFailed) invalid(`bad signature for key ${kid}`);
      invalid(`not a valid EdDSA JWS: ${error instanceof Error ? error.message : String(error)}`);
    }
    let claims: unknown;
    try {
      claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    } catch {
      invalid('the payload is not JSON');
    }
    this.assertAudience(claims);
    return { kid, proofSha256: createHash('sha256').update(proof).digest('hex'), claims: parseSecondFactorClaims(claims) };
  }

  private kidOf(proof: string): string {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      invalid('the protected header is not JSON');
    }
    if (header.alg !== 'EdDSA') invalid(`alg must be EdDSA (got ${String(header.alg)})`);
    if (typeof header.kid !== 'string' || header.kid === '') invalid('the protected header names no kid');
    return header.kid;
  }

  private assertAudience(claims: unknown): void {
    const aud = (claims as { aud?: unknown } | null)?.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(this.audience)) invalid(`audience (aud) must include ${this.audience}`);
  }
}
