import type { DateTime } from 'luxon';
import { domainError } from '../shared/errors';
import { TWO_FACTOR_METHODS, type TwoFactorMethod } from './account.events';

/**
 * Proof that the customer entered their second factor for one transaction (the January 2022 lesson: the attackers
 * sent withdrawals "approved without the 2FA authentication control being inputted by the user", carrying nothing
 * but a token id). The exchange's authentication service signs a compact JWS (EdDSA) after the customer entered the
 * factor; the handler verifies its signature and issuer key, and the decider checks here everything it says against
 * the command, the account and the command's time, so that a replay decides the same.
 */
export type SecondFactorAction = 'withdrawal' | 'whitelist';

/** The longest a proof may live: `exp` at most this many seconds after `iat`. */
export const SECOND_FACTOR_MAX_LIFETIME_SECONDS = 300;
/** How far ahead of the ledger's clock a proof's `iat` may be (the attester's clock may run slightly fast). */
export const SECOND_FACTOR_CLOCK_SKEW_SECONDS = 30;

export interface SecondFactorClaims {
  /** The account id. */
  readonly sub: string;
  readonly act: SecondFactorAction;
  /** The enrolled token whose factor the customer entered. */
  readonly tid: string;
  /** The factor methods used, distinct (RFC 8176's claim; values from TWO_FACTOR_METHODS). */
  readonly amr: readonly TwoFactorMethod[];
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
  /** Single use per account. */
  readonly jti: string;
  /** The transaction's own fields: withdrawal id (withdrawals only), asset, canonical amount (withdrawals), address. */
  readonly wid?: string;
  readonly asset: string;
  readonly amount?: string;
  readonly address: string;
}

/** A proof whose signature the handler verified with a configured attester key. */
export interface VerifiedSecondFactor {
  readonly kid: string;
  /** SHA-256 (hex) of the compact JWS: what the ledger keeps of the proof itself. */
  readonly proofSha256: string;
  readonly claims: SecondFactorClaims;
}

/** What an event records of the proof: never the proof itself. */
export interface SecondFactorRecord {
  readonly kid: string;
  readonly amr: readonly TwoFactorMethod[];
  readonly jti: string;
  readonly proofSha256: string;
}

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

function invalid(reason: string): never {
  throw domainError('SECOND_FACTOR_INVALID', reason);
}

function text(payload: Record<string, unknown>, name: string, optional = false): string | undefined {
  const value = payload[name];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) invalid(`malformed claim ${name}: must be a non-empty string`);
  return value;
}

function seconds(payload: Record<string, unknown>, name: string): number {
  const value = payload[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) invalid(`malformed claim ${name}: must be whole seconds since the epoch`);
  return value;
}

function methods(value: unknown): TwoFactorMethod[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > TWO_FACTOR_METHODS.length) invalid('malformed claim amr: must list the factor methods used');
  const known = new Set<string>(TWO_FACTOR_METHODS);
  if (!value.every((method): method is TwoFactorMethod => typeof method === 'string' && known.has(method))) {
    invalid(`malformed claim amr: methods must be among ${TWO_FACTOR_METHODS.join(', ')}`);
  }
  if (new Set(value).size !== value.length) invalid('malformed claim amr: a method is listed twice');
  return value;
}

/** The claims of a verified proof's payload, shape-checked; SECOND_FACTOR_INVALID names what is malformed. */
export function parseSecondFactorClaims(payload: unknown): SecondFactorClaims {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) invalid('the payload is not a JSON object');
  const p = payload as Record<string, unknown>;
  const act = p.act;
  if (act !== 'withdrawal' && act !== 'whitelist') invalid('malformed claim act: must be withdrawal or whitelist');
  const jti = text(p, 'jti')!;
  if (!ID_PATTERN.test(jti)) invalid('malformed claim jti: 1 to 128 of A-Z a-z 0-9 _ . : -');
  return {
    sub: text(p, 'sub')!,
    act,
    tid: text(p, 'tid')!,
    amr: methods(p.amr),
    iat: seconds(p, 'iat'),
    exp: seconds(p, 'exp'),
    jti,
    wid: text(p, 'wid', true),
    asset: text(p, 'asset')!,
    amount: text(p, 'amount', true),
    address: text(p, 'address')!,
  };
}

/** The fields a proof must carry for the transaction it authorises, exactly as the command states them. */
export interface BoundTransaction {
  readonly accountId: string;
  readonly act: SecondFactorAction;
  readonly withdrawalId?: string;
  readonly asset: string;
  /** Canonical decimal string. */
  readonly amount?: string;
  readonly address: string;
}

/** Every bound field, in the order a refusal names the first one that differs. */
export function assertBoundTo(claims: SecondFactorClaims, transaction: BoundTransaction): void {
  const pairs: Array<[string, string | undefined, string | undefined]> = [
    ['sub', claims.sub, transaction.accountId],
    ['act', claims.act, transaction.act],
    ['wid', claims.wid, transaction.withdrawalId],
    ['asset', claims.asset, transaction.asset],
    ['amount', claims.amount, transaction.amount],
    ['address', claims.address, transaction.address],
  ];
  for (const [name, claimed, actual] of pairs) {
    if (claimed !== actual) invalid(`field mismatch: ${name} (the proof says ${claimed ?? 'nothing'}, the command ${actual ?? 'nothing'})`);
  }
}

/** Fresh at the command's time: issued at most SECOND_FACTOR_CLOCK_SKEW_SECONDS ahead, unexpired, short-lived. */
export function assertFresh(claims: SecondFactorClaims, now: DateTime): void {
  const nowSeconds = Math.floor(now.toMillis() / 1_000);
  if (claims.exp <= claims.iat) invalid('exp is not after iat');
  if (claims.exp - claims.iat > SECOND_FACTOR_MAX_LIFETIME_SECONDS) {
    invalid(`lifetime of ${claims.exp - claims.iat} s exceeds ${SECOND_FACTOR_MAX_LIFETIME_SECONDS} s`);
  }
  if (claims.iat > nowSeconds + SECOND_FACTOR_CLOCK_SKEW_SECONDS) invalid('issued in the future (iat is ahead of the ledger clock)');
  if (nowSeconds >= claims.exp) invalid(`expired ${nowSeconds - claims.exp} s ago`);
}

export function recordOf(proof: VerifiedSecondFactor): SecondFactorRecord {
  return { kid: proof.kid, amr: proof.claims.amr, jti: proof.claims.jti, proofSha256: proof.proofSha256 };
}
