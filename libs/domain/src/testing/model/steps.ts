/**
 * The abstract commands of the model-based tests (model-based.spec.ts): small index domains, so that random
 * sequences collide on the same accounts, tokens, addresses, withdrawals and incidents often enough to reach every
 * rule. Amounts are either fixed (minor units) or relative to what the reference model holds when the step runs
 * (everything available, exactly what is outstanding, one unit more), so that the edges of rules 1 and 7 are hit.
 */
export type ModelAsset = 'ETH' | 'BTC' | 'USDC';
export const MODEL_ASSETS: readonly ModelAsset[] = ['ETH', 'BTC', 'USDC'];
/** Each asset's number of decimals, written down again here rather than imported: the model is independent. */
export const MODEL_ASSET_DECIMALS: Readonly<Record<ModelAsset, number>> = { ETH: 18, BTC: 8, USDC: 6 };
export type ModelMethod = 'totp' | 'sms' | 'webauthn';
export type ModelTransactionType = 'withdrawal' | 'whitelist' | 'transfer' | 'trade';
export const MODEL_TRANSACTION_TYPES: readonly ModelTransactionType[] = ['withdrawal', 'whitelist', 'transfer', 'trade'];

export type AmountChoice =
  | { readonly kind: 'fixed'; readonly minor: bigint }
  /** Withdrawals: all that is available; reimbursements: all that is outstanding. */
  | { readonly kind: 'all' }
  /** One minor unit more than 'all'. */
  | { readonly kind: 'over' };

/** A step on an existing withdrawal. */
export interface WithdrawalStep {
  readonly type: 'approve' | 'settle' | 'reject' | 'cancel';
  readonly account: number;
  readonly withdrawal: number;
}

export type Step =
  | { readonly type: 'open'; readonly account: number }
  | { readonly type: 'deposit'; readonly account: number; readonly deposit: number; readonly asset: ModelAsset; readonly amount: AmountChoice }
  | { readonly type: 'enrol'; readonly account: number; readonly token: number; readonly method: ModelMethod }
  | { readonly type: 'revokeToken'; readonly account: number; readonly token: number }
  | { readonly type: 'whitelist'; readonly account: number; readonly asset: ModelAsset; readonly address: number }
  | { readonly type: 'removeAddress'; readonly account: number; readonly asset: ModelAsset; readonly address: number }
  | {
      readonly type: 'request';
      readonly account: number;
      readonly withdrawal: number;
      readonly asset: ModelAsset;
      readonly amount: AmountChoice;
      readonly address: number;
      readonly token: number;
    }
  | WithdrawalStep
  | { readonly type: 'report'; readonly account: number; readonly withdrawal: number; readonly incident: number }
  | { readonly type: 'reimburse'; readonly account: number; readonly reimbursement: number; readonly incident: number; readonly asset: ModelAsset; readonly amount: AmountChoice }
  | { readonly type: 'antiPhishing'; readonly account: number }
  | { readonly type: 'mfa'; readonly account: number; readonly enabled: boolean; readonly types: readonly ModelTransactionType[] }
  | { readonly type: 'enrolProtection'; readonly account: number }
  | {
      readonly type: 'claim';
      readonly account: number;
      readonly claim: number;
      readonly withdrawal: number;
      readonly policeReport: boolean;
      readonly policeCopy: boolean;
      readonly questionnaire: boolean;
      readonly jailbroken: boolean;
    }
  | { readonly type: 'openIncident' | 'closeIncident'; readonly incident: number }
  | { readonly type: 'halt' | 'resume'; readonly incident: number | null }
  | { readonly type: 'revokeAll'; readonly revocation: number; readonly incident: number }
  | { readonly type: 'holdPolicy'; readonly hours: number }
  /** USD price in cents. */
  | { readonly type: 'price'; readonly asset: ModelAsset; readonly usdCents: bigint }
  | { readonly type: 'advance'; readonly minutes: number };

/** The ids the steps' indexes stand for. */
export const ids = {
  account: (i: number) => `acc-${i}`,
  token: (i: number) => `tok-${i}`,
  address: (asset: ModelAsset, i: number) => `${asset.toLowerCase()}-addr-${i}`,
  withdrawal: (i: number) => `w-${i}`,
  deposit: (i: number) => `dep-${i}`,
  reimbursement: (i: number) => `r-${i}`,
  incident: (i: number) => `inc-${i}`,
  claim: (i: number) => `claim-${i}`,
  revocation: (i: number) => `rev-${i}`,
};

/** A canonical decimal string of a minor amount (no trailing zeros, no point for whole numbers). */
export function decimalOf(minor: bigint, decimals: number): string {
  const digits = minor.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}
