/**
 * The assets the ledger knows, each with the fixed number of decimals of its minor unit. A scale never changes
 * once events use it: changing one would change what every recorded amount means.
 */
export const ASSET_SCALES = {
  BTC: 8,
  ETH: 18,
  USDC: 6,
  USDT: 6,
  CRO: 8,
  SOL: 9,
  XRP: 6,
  LTC: 8,
  DOGE: 8,
  ADA: 6,
  DOT: 10,
  USD: 2,
} as const;

export type AssetCode = keyof typeof ASSET_SCALES;

export const ASSET_CODES = Object.keys(ASSET_SCALES) as AssetCode[];

export function isAssetCode(value: unknown): value is AssetCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ASSET_SCALES, value);
}

export function assetScale(asset: AssetCode): number {
  return ASSET_SCALES[asset];
}
