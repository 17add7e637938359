import { invariant } from '../shared/assert';
import { assetScale, type AssetCode } from './assets';

/**
 * Money is exact: a bigint count of the asset's minor unit in memory, and a canonical decimal string in events
 * and JSON ("4836.26", "10", "0": no exponent, no sign, no leading zeros, no trailing zeros after the point and
 * no point for whole numbers). A JS number never holds an amount.
 */
export type Amount = string;

/** Inputs longer than this are refused before any parsing: no asset needs more digits. */
export const AMOUNT_MAX_LENGTH = 48;
/** At most this many digits before the point: far above any asset's total supply, far below abuse. */
export const AMOUNT_MAX_INTEGER_DIGITS = 24;

const DECIMAL_INPUT = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

export type AmountParseResult = { ok: true; minor: bigint } | { ok: false; reason: string };

/**
 * Parses a decimal string of an asset into minor units. Accepts trailing zeros within the scale ("1.50" for a
 * 2-decimal asset) but refuses anything that is not a plain non-negative decimal: signs, exponents, hex,
 * spaces, leading zeros, more decimals than the asset has.
 */
export function parseAmount(asset: AssetCode, text: unknown): AmountParseResult {
  if (typeof text !== 'string') return { ok: false, reason: 'must be a decimal string such as "12.5", not a JSON number' };
  if (text.length === 0) return { ok: false, reason: 'must not be empty' };
  if (text.length > AMOUNT_MAX_LENGTH) return { ok: false, reason: `must be at most ${AMOUNT_MAX_LENGTH} characters` };
  const match = DECIMAL_INPUT.exec(text);
  if (!match) {
    return { ok: false, reason: 'must be a plain decimal string: digits, at most one point, no sign, exponent, spaces or leading zeros' };
  }
  const integerPart = match[1]!;
  const fraction = match[2] ? match[2].slice(1) : '';
  if (integerPart.length > AMOUNT_MAX_INTEGER_DIGITS) {
    return { ok: false, reason: `must have at most ${AMOUNT_MAX_INTEGER_DIGITS} digits before the point` };
  }
  const scale = assetScale(asset);
  // An input with more decimals than the scale is refused, even when the extra decimals are zeros: money is exact,
  // so an amount the asset cannot hold is an error of the sender, never something to round or to trim silently.
  if (fraction.length > scale) {
    return { ok: false, reason: `${asset} has ${scale} decimals; the amount has ${fraction.length}` };
  }
  const minor = BigInt(integerPart + fraction.padEnd(scale, '0'));
  return { ok: true, minor };
}

/** Parses a positive amount; throws a TypeError for input the edges should have refused already. */
export function toMinor(asset: AssetCode, text: Amount): bigint {
  const parsed = parseAmount(asset, text);
  if (!parsed.ok) throw new TypeError(`invalid ${asset} amount ${JSON.stringify(text)}: ${parsed.reason}`);
  return parsed.minor;
}

/** The canonical decimal string of a non-negative minor-unit amount. */
export function formatAmount(asset: AssetCode, minor: bigint): Amount {
  invariant(minor >= 0n, `formatting a negative ${asset} amount (${minor.toString()})`);
  const scale = assetScale(asset);
  const digits = minor.toString().padStart(scale + 1, '0');
  const integerPart = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return fraction.length > 0 ? `${integerPart}.${fraction}` : integerPart;
}

/** True when the text is already the canonical form of its value (what events must hold). */
export function isCanonicalAmount(asset: AssetCode, text: string): boolean {
  const parsed = parseAmount(asset, text);
  return parsed.ok && formatAmount(asset, parsed.minor) === text;
}
