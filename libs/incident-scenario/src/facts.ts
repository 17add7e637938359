import { assetScale, canonicalPrice, invariant, parsePrice, toMinor, valueUsdCents, type AssetCode } from '@app/domain';
import { DateTime } from 'luxon';

/**
 * The January 2022 incident as public coverage reports it (/work/shared/INCIDENT.md). The scenario reproduces these
 * figures exactly through the ledger's real command handlers; the report checks them from the read models.
 */

const utc = (iso: string): DateTime => DateTime.fromISO(iso, { zone: 'utc' });

export const INCIDENT_ID = 'inc-2022-01-17-2fa-bypass';
export const INCIDENT_TITLE = "Withdrawals approved without the customer's second factor";
export const PHISHING_INCIDENT_ID = 'inc-2022-03-phishing';
export const PHISHING_INCIDENT_TITLE = 'Phishing account takeovers (March 2022)';
export const REVOCATION_ID = 'rev-2022-01-17-all-2fa';

/** The post-mortem's figures. */
export const PUBLISHED = {
  affectedAccounts: 483,
  ethLost: '4836.26',
  btcLost: '443.93',
  /** BleepingComputer's USD values; the ETH and BTC prices below are the ones these imply. */
  ethUsd: '15132516.00',
  btcUsd: '18613630.00',
  otherAssetsUsd: '66200.00',
  totalUsd: '33812346.00',
  /** The exchange's CEO on 2022-01-18. */
  companyDowntime: '~14 hours',
} as const;

/** Instants of the timeline (UTC). The first five are public; the rest are the scenario's choices. */
export const TIMES = {
  detection: utc('2022-01-17T00:46:00Z'),
  /** The tweet "pausing withdrawals shortly"; all users forced to re-login and re-set 2FA. */
  revocation: utc('2022-01-17T04:44:00Z'),
  /** "Withdrawal services have been restored". */
  resumption: utc('2022-01-17T17:42:00Z'),
  /** Whitelisting re-enabled with a 24-hour delay before the first withdrawal to a new address. */
  holdPolicy: utc('2022-01-18T10:17:00Z'),
  programmeStart: utc('2022-02-01T00:00:00Z'),

  platformStart: utc('2021-03-01T00:00:00Z'),
  onboardingEnd: utc('2022-01-09T12:00:00Z'),
  januaryPrices: utc('2022-01-16T12:00:00Z'),
  ordinaryWithdrawals: utc('2022-01-12T15:00:00Z'),
  /** The unauthorized withdrawals happen in the hours before detection. */
  attackStart: utc('2022-01-16T21:30:00Z'),
  /** Settled unauthorized withdrawals end by here; the pending ones are requested after it. */
  attackSettledBy: utc('2022-01-17T00:25:00Z'),
  reportsStart: utc('2022-01-17T00:50:00Z'),
  reenrolmentStart: utc('2022-01-17T05:00:00Z'),
  lateReenrolmentStart: utc('2022-01-18T08:00:00Z'),
  reimbursementsStart: utc('2022-01-18T00:00:00Z'),
  incidentClosed: utc('2022-01-20T12:00:00Z'),
  marchPrices: utc('2022-03-01T00:00:00Z'),
  phishingWhitelisting: utc('2022-03-08T10:00:00Z'),
  phishingWithdrawals: utc('2022-03-09T11:00:00Z'),
  phishingDetected: utc('2022-03-10T09:00:00Z'),
  claimsFiled: utc('2022-03-15T10:00:00Z'),
  phishingClosed: utc('2022-04-01T12:00:00Z'),
} as const;

/** Public milestones that are not ledger events, shown in the report's timeline for context. */
export const PUBLIC_MILESTONES: readonly { readonly at: DateTime; readonly label: string; readonly dateOnly: boolean }[] = [
  { at: utc('2022-01-17T04:44:00Z'), label: 'Tweet: "pausing withdrawals shortly"; users forced to re-login and re-set 2FA', dateOnly: false },
  { at: utc('2022-01-17T16:00:00Z'), label: 'CEO: withdrawals back in 30-60 minutes', dateOnly: false },
  { at: utc('2022-01-18T00:00:00Z'), label: 'CEO: "no customer funds were lost", downtime "~14 hours"', dateOnly: true },
  { at: utc('2022-01-20T00:00:00Z'), label: 'Post-mortem published', dateOnly: true },
  { at: utc('2022-02-01T00:00:00Z'), label: 'Account protection programme (up to US$250,000) starts', dateOnly: true },
];

/** The assets customers hold in the scenario; every one has a recorded price before detection. */
export const SCENARIO_ASSETS = ['ETH', 'BTC', 'USDC', 'USDT', 'CRO', 'SOL'] as const satisfies readonly AssetCode[];
export type ScenarioAsset = (typeof SCENARIO_ASSETS)[number];
export const OTHER_LOST_ASSETS = ['USDC', 'USDT', 'CRO', 'SOL'] as const satisfies readonly ScenarioAsset[];

/**
 * "Approximately US$66,200 in other currencies": the split across assets is the scenario's choice; each line is an
 * exact amount at an exact price, so the four add up to exactly US$66,200.00.
 */
export const OTHER_ASSET_LOSSES: Readonly<Record<(typeof OTHER_LOST_ASSETS)[number], { amount: string; usd: string }>> = {
  USDC: { amount: '21450', usd: '1' },
  USDT: { amount: '16350', usd: '1' },
  CRO: { amount: '25000', usd: '0.44' },
  SOL: { amount: '120', usd: '145' },
};

/**
 * The price, in 10^-8 USD, at which `amount` of an asset is worth exactly `usd` once valueUsd rounds it to the cent:
 * the nearest 8-decimal price to usd / amount. Asserted, so a figure no 8-decimal price can reach fails loudly.
 */
export function impliedPriceE8(asset: AssetCode, amount: string, usd: string): bigint {
  const amountMinor = toMinor(asset, amount);
  const cents = toMinor('USD', usd);
  const numerator = cents * 10n ** BigInt(assetScale(asset)) * 10n ** 8n;
  const denominator = amountMinor * 100n;
  const priceE8 = (2n * numerator + denominator) / (2n * denominator);
  invariant(valueUsdCents(asset, amountMinor, priceE8) === cents, `no 8-decimal ${asset} price values ${amount} at exactly ${usd} USD`);
  invariant(parsePrice(canonicalPrice(priceE8)).ok, `no 8-decimal ${asset} price the ledger records values ${amount} at ${usd} USD`);
  return priceE8;
}

function fixedPriceE8(usd: string): bigint {
  const parsed = parsePrice(usd);
  invariant(parsed.ok, `scenario price ${usd} does not parse`);
  return parsed.scaled;
}

/**
 * Prices recorded on 2022-01-16, before detection (10^-8 USD). ETH and BTC are the prices the public USD figures imply
 * (US$15,132,516 for 4,836.26 ETH gives 3128.97073358; US$18,613,630 for 443.93 BTC gives 41929.20054964), not the
 * rounded 3,129 and 41,929.5 that coverage quotes, which value the same amounts at 15,132,657.54 and 18,613,762.94.
 */
export function januaryPricesE8(): Record<ScenarioAsset, bigint> {
  return {
    ETH: impliedPriceE8('ETH', PUBLISHED.ethLost, PUBLISHED.ethUsd),
    BTC: impliedPriceE8('BTC', PUBLISHED.btcLost, PUBLISHED.btcUsd),
    USDC: fixedPriceE8(OTHER_ASSET_LOSSES.USDC.usd),
    USDT: fixedPriceE8(OTHER_ASSET_LOSSES.USDT.usd),
    CRO: fixedPriceE8(OTHER_ASSET_LOSSES.CRO.usd),
    SOL: fixedPriceE8(OTHER_ASSET_LOSSES.SOL.usd),
  };
}

/** Prices recorded on 2022-03-01 (the scenario's choice, near the market then): protection claims are valued at these. */
export const MARCH_PRICES: Readonly<Record<ScenarioAsset, string>> = {
  ETH: '2950',
  BTC: '43200',
  USDC: '1',
  USDT: '1',
  CRO: '0.4',
  SOL: '100',
};
