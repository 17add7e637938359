/**
 * Exact decimal strings (the API's amounts, "4836.26") compared and scaled without floating point: the chart's bar
 * lengths are ratios of integers, and every figure shown is the string the API sent.
 */
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** The value in units of 10^-scale, as a bigint; null for anything that is not a plain non-negative decimal. */
export function toScaled(value: string, scale: number): bigint | null {
  const match = DECIMAL.exec(value);
  if (match === null) return null;
  const fraction = (match[2] ?? '').padEnd(scale, '0');
  if (fraction.length > scale) return null;
  return BigInt(match[1]! + fraction);
}

/** The largest number of decimals among the values, so that all of them scale exactly. */
export function commonScale(values: readonly string[]): number {
  return Math.max(0, ...values.map((value) => DECIMAL.exec(value)?.[2]?.length ?? 0));
}

/** value / max in thousandths (0 to 1000), rounded down; 0 when max is 0. */
export function perMille(value: bigint, max: bigint): number {
  return max === 0n ? 0 : Number((value * 1000n) / max);
}
