import { invariant } from '../shared/assert';
import { assetScale, type AssetCode } from './assets';

/** Recorded prices are integers of 10^-8 USD (see prices/price.decider.ts, PRICE_SCALE). */
const PRICE_UNITS_PER_USD = 10n ** 8n;
const CENTS_PER_USD = 100n;

/**
 * The USD value, in cents, of `minor` units of an asset at `priceE8` (10^-8 USD per whole unit), computed exactly
 * (value = minor * priceE8 / 10^(scale + 8) USD) and rounded half-up to the cent once, at the end.
 */
export function valueUsdCents(asset: AssetCode, minor: bigint, priceE8: bigint): bigint {
  invariant(minor >= 0n, `valuing a negative ${asset} amount (${minor.toString()})`);
  invariant(priceE8 >= 0n, `valuing ${asset} at a negative price (${priceE8.toString()})`);
  const numerator = minor * priceE8 * CENTS_PER_USD;
  const denominator = 10n ** BigInt(assetScale(asset)) * PRICE_UNITS_PER_USD;
  // Half-up for a non-negative quotient: floor(n / d + 1/2) = floor((2n + d) / 2d).
  return (2n * numerator + denominator) / (2n * denominator);
}

/** Cents as a USD decimal string with exactly two decimals: "15132657.54", "0.00". */
export function formatUsdCents(cents: bigint): string {
  invariant(cents >= 0n, `formatting a negative USD amount (${cents.toString()} cents)`);
  const digits = cents.toString().padStart(3, '0');
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** The USD value of `minor` units of an asset at a recorded price, with 2 decimals (see valueUsdCents). */
export function valueUsd(asset: AssetCode, minor: bigint, priceE8: bigint): string {
  return formatUsdCents(valueUsdCents(asset, minor, priceE8));
}

/** Parses a USD string with exactly two decimals, as formatUsdCents writes it, back into cents. */
export function parseUsdCents(text: string): bigint {
  const match = /^(0|[1-9][0-9]*)\.([0-9]{2})$/.exec(text);
  invariant(match, `not a USD amount with two decimals: ${JSON.stringify(text)}`);
  return BigInt(match[1]! + match[2]!);
}
