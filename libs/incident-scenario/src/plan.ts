import { formatAmount, invariant, toMinor, TRANSACTION_TYPES, type TransactionType, type TwoFactorMethod } from '@app/domain';
import type { DateTime } from 'luxon';
import {
  OTHER_ASSET_LOSSES,
  OTHER_LOST_ASSETS,
  PUBLISHED,
  SCENARIO_ASSETS,
  TIMES,
  type ScenarioAsset,
} from './facts';
import { Prng } from './prng';

/**
 * The scenario as data: who opens accounts with what, who is attacked, for how much and when, who claims what. Pure
 * and deterministic: the same seed and population give the same plan. The runner (scenario.ts) sends it through
 * the ledger's real handlers; nothing in the report is taken from here.
 */

export const MIN_ACCOUNTS = 500;
export const MAX_ACCOUNTS = 100_000;
export const DEFAULT_ACCOUNTS = 10_000;
export const DEFAULT_SEED = 20_220_117;
/** Of the 483 accounts attacked, those that lost funds (a minority; the others' withdrawals were all stopped in time). */
export const VICTIMS_WITH_LOSSES = 193;
/** Accounts opened on one day of the onboarding period. */
const ACCOUNTS_PER_COHORT = 250;

export interface Deposit {
  readonly depositId: string;
  readonly asset: ScenarioAsset;
  readonly amountMinor: bigint;
}

export interface AccountPlan {
  readonly index: number;
  readonly accountId: string;
  readonly openedAt: DateTime;
  readonly deposits: readonly Deposit[];
  readonly method: TwoFactorMethod;
  readonly reenrolMethod: TwoFactorMethod;
  /** The customer's own wallet, whitelisted when the account is opened. */
  readonly ownAddress: { readonly asset: ScenarioAsset; readonly address: string };
  readonly antiPhishingAtOpening: boolean;
  readonly mfaAtOpening: readonly TransactionType[];
  /** Re-enrols 2FA only the next morning (after withdrawals resumed). */
  readonly lateReenrolment: boolean;
}

export interface PlannedWithdrawal {
  readonly accountId: string;
  readonly withdrawalId: string;
  readonly asset: ScenarioAsset;
  readonly amountMinor: bigint;
  readonly address: string;
  readonly requestAt: DateTime;
  readonly approveAt: DateTime | null;
  readonly settleAt: DateTime | null;
}

export interface AttackPlan {
  readonly accountId: string;
  /** `loss`: at least one withdrawal settled before detection; `prevented`: every one was still pending at the halt. */
  readonly outcome: 'loss' | 'prevented';
  readonly whitelist: readonly { readonly asset: ScenarioAsset; readonly address: string; readonly at: DateTime }[];
  /** Settled ones become losses; the others are still pending at detection and are prevented. */
  readonly withdrawals: readonly PlannedWithdrawal[];
}

export type ClaimOutcome = { readonly approved: true; readonly capped: boolean } | { readonly approved: false; readonly reasons: readonly string[] };

export interface ClaimDeclaration {
  readonly policeReportReference: string | null;
  readonly policeReportCopyProvided: boolean;
  readonly questionnaireCompleted: boolean;
  readonly deviceJailbroken: boolean;
}

export interface PlannedClaim {
  readonly accountId: string;
  readonly claimId: string;
  readonly withdrawalId: string;
  readonly at: DateTime;
  readonly declaration: ClaimDeclaration;
  /** What the programme must decide; the runner checks the ledger decided so. */
  readonly expected: ClaimOutcome;
}

export interface ClaimCase {
  readonly key: string;
  readonly accountId: string;
  readonly mfa: readonly TransactionType[];
  readonly antiPhishingAt: DateTime | null;
  readonly attack: AttackPlan;
  readonly claims: readonly PlannedClaim[];
}

export interface ScenarioPlan {
  readonly seed: number;
  readonly accounts: readonly AccountPlan[];
  readonly victims: readonly AttackPlan[];
  readonly ordinaryWithdrawals: readonly PlannedWithdrawal[];
  /** Legitimate withdrawals in flight at detection: approved ones settle after resumption, the others are rejected. */
  readonly inFlightApproved: readonly PlannedWithdrawal[];
  readonly inFlightRequested: readonly PlannedWithdrawal[];
  readonly afterResumption: readonly PlannedWithdrawal[];
  /** Accounts enrolled in the protection programme on its first day (besides the claimants). */
  readonly protectionEnrolments: readonly string[];
  readonly claimCases: readonly ClaimCase[];
  /** A January victim who claims under the programme for the January loss (denied: before the programme, and reimbursed). */
  readonly januaryClaim: PlannedClaim;
  /** Accounts used to show rules refusing commands (halt, revoked token, new-address hold, reimbursement). */
  readonly demo: { readonly haltedAccount: string; readonly revokedTokenAccount: string; readonly holdAccount: AccountPlan; readonly notEnrolledVictim: string };
}

// ---- amounts ----------------------------------------------------------------------------------------------------

interface AssetProfile {
  /** The step amounts are drawn and split in, so that they read like amounts people type. */
  readonly granule: string;
  readonly min: string;
  readonly max: string;
  readonly weight: number;
}

const ASSET_PROFILES: Readonly<Record<ScenarioAsset, AssetProfile>> = {
  ETH: { granule: '0.0001', min: '0.05', max: '60', weight: 35 },
  BTC: { granule: '0.00001', min: '0.002', max: '4', weight: 25 },
  USDC: { granule: '0.01', min: '50', max: '30000', weight: 15 },
  USDT: { granule: '0.01', min: '50', max: '30000', weight: 10 },
  CRO: { granule: '0.01', min: '200', max: '250000', weight: 10 },
  SOL: { granule: '0.001', min: '0.5', max: '400', weight: 5 },
};

const granuleMinor = (asset: ScenarioAsset): bigint => toMinor(asset, ASSET_PROFILES[asset].granule);

/** A random amount, skewed towards small ones (u^3), a whole number of granules. Only exact float operations. */
function randomAmount(prng: Prng, asset: ScenarioAsset): bigint {
  const step = granuleMinor(asset);
  const low = toMinor(asset, ASSET_PROFILES[asset].min) / step;
  const high = toMinor(asset, ASSET_PROFILES[asset].max) / step;
  const u = prng.next();
  return (low + BigInt(Math.floor(Number(high - low) * u * u * u))) * step;
}

/** `fraction` (a whole percentage from..to) of an amount, in whole granules, at least one granule. */
function share(prng: Prng, asset: ScenarioAsset, amountMinor: bigint, fromPercent: number, toPercent: number): bigint {
  const step = granuleMinor(asset);
  const units = (amountMinor / step) * BigInt(prng.between(fromPercent, toPercent)) / 100n;
  return (units > 0n ? units : 1n) * step;
}

/**
 * Splits a total into parts proportional to integer weights, exactly: whole granules, the remainder spread one
 * granule at a time, every part at least one granule, and the parts add up to the total (asserted).
 */
export function splitExact(asset: ScenarioAsset, totalMinor: bigint, weights: readonly number[]): bigint[] {
  const step = granuleMinor(asset);
  invariant(totalMinor % step === 0n, `${formatAmount(asset, totalMinor)} ${asset} is not a whole number of granules`);
  const units = totalMinor / step;
  const weightSum = BigInt(weights.reduce((sum, weight) => sum + weight, 0));
  invariant(units >= BigInt(weights.length), `${asset} total too small to split ${weights.length} ways`);
  // Each part first gets one granule, so that none is zero; the rest is shared by weight.
  const rest = units - BigInt(weights.length);
  const parts = weights.map((weight) => 1n + (rest * BigInt(weight)) / weightSum);
  let remainder = units - parts.reduce((sum, part) => sum + part, 0n);
  for (let i = 0; remainder > 0n; i = (i + 1) % parts.length, remainder -= 1n) parts[i] = parts[i]! + 1n;
  const minor = parts.map((part) => part * step);
  invariant(minor.reduce((sum, part) => sum + part, 0n) === totalMinor, `${asset} split does not add up`);
  return minor;
}

/** What was lost in each asset (the post-mortem's figures; the other assets' split is the scenario's). */
export function lostTotalsMinor(): Record<ScenarioAsset, bigint> {
  const totals = { ETH: toMinor('ETH', PUBLISHED.ethLost), BTC: toMinor('BTC', PUBLISHED.btcLost) } as Record<ScenarioAsset, bigint>;
  for (const asset of OTHER_LOST_ASSETS) totals[asset] = toMinor(asset, OTHER_ASSET_LOSSES[asset].amount);
  return totals;
}

// ---- addresses ----------------------------------------------------------------------------------------------------

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function randomAddress(prng: Prng, asset: ScenarioAsset): string {
  if (asset === 'BTC') return `bc1q${prng.chars(BECH32, 38)}`;
  if (asset === 'SOL') return prng.chars(BASE58, 44);
  return `0x${prng.hex(40)}`;
}

// ---- the population -----------------------------------------------------------------------------------------------

const assetWeights = (except: readonly ScenarioAsset[] = []): Record<ScenarioAsset, number> => {
  const weights = {} as Record<ScenarioAsset, number>;
  for (const asset of SCENARIO_ASSETS) weights[asset] = except.includes(asset) ? 0 : ASSET_PROFILES[asset].weight;
  return weights;
};

/** Half-hour slots of an onboarding day (08:00 to 18:00): a cohort signs up over the day, not in one minute. */
const ONBOARDING_SLOTS = 20;

function openingTime(index: number, count: number): DateTime {
  const cohorts = Math.max(1, Math.ceil(count / ACCOUNTS_PER_COHORT));
  const cohort = Math.floor((index * cohorts) / count);
  const slot = Math.floor((((index * cohorts) % count) * ONBOARDING_SLOTS) / count);
  const spanMinutes = Math.floor(TIMES.onboardingEnd.diff(TIMES.platformStart, 'minutes').minutes);
  const day = TIMES.platformStart.plus({ minutes: Math.floor((cohort * spanMinutes) / cohorts) }).set({ hour: 8, minute: 0 });
  return day.plus({ minutes: 30 * slot });
}

interface AccountSeed {
  readonly index: number;
  /** Extra holdings the account must have (losses, prevented withdrawals, claims), on top of its own deposits. */
  readonly extra: ReadonlyMap<ScenarioAsset, bigint>;
  readonly profile: 'random' | 'protected' | 'bare';
}

function planAccount(prng: Prng, seed: AccountSeed, count: number, lateReenrolment: boolean): AccountPlan {
  const holdings = new Map<ScenarioAsset, bigint>();
  const first = prng.weighted(assetWeights());
  holdings.set(first, randomAmount(prng, first));
  for (let more = prng.int(3); more > 0; more -= 1) {
    const asset = prng.weighted(assetWeights([...holdings.keys()]));
    holdings.set(asset, randomAmount(prng, asset));
  }
  for (const [asset, amount] of seed.extra) holdings.set(asset, (holdings.get(asset) ?? 0n) + amount);
  const deposits = SCENARIO_ASSETS.filter((asset) => holdings.has(asset)).map((asset, i) => ({
    depositId: `dep-${i + 1}`,
    asset,
    amountMinor: holdings.get(asset)!,
  }));
  const methods: TwoFactorMethod[] = ['totp', 'totp', 'totp', 'sms', 'sms', 'webauthn'];
  return {
    index: seed.index,
    accountId: accountIdOf(seed.index, count),
    openedAt: openingTime(seed.index, count),
    deposits,
    method: prng.pick(methods),
    reenrolMethod: prng.pick(methods),
    ownAddress: { asset: first, address: randomAddress(prng, first) },
    antiPhishingAtOpening: seed.profile === 'protected' || (seed.profile === 'random' && prng.chance(0.4)),
    mfaAtOpening: mfaAtOpening(prng, seed.profile),
    lateReenrolment,
  };
}

/** A protected account has MFA on everything from the start; a bare one (a claimant, set up later) none; others vary. */
function mfaAtOpening(prng: Prng, profile: AccountSeed['profile']): TransactionType[] {
  if (profile === 'protected') return [...TRANSACTION_TYPES];
  if (profile === 'bare') return [];
  const roll = prng.next();
  return roll < 0.25 ? [...TRANSACTION_TYPES] : roll < 0.45 ? ['withdrawal'] : [];
}

export function accountIdOf(index: number, count: number): string {
  return `acct-${String(index + 1).padStart(Math.max(6, String(count).length), '0')}`;
}

// ---- the January attack -------------------------------------------------------------------------------------------

/** The first six victims lose one asset each, so every lost asset has an account even in the smallest population. */
const PRIMARY_WEIGHTS: Readonly<Record<ScenarioAsset, number>> = { ETH: 48, BTC: 32, USDC: 6, USDT: 5, CRO: 5, SOL: 4 };

function assignLostAssets(prng: Prng, victims: readonly number[]): Map<number, ScenarioAsset[]> {
  const assigned = new Map<number, ScenarioAsset[]>();
  victims.forEach((victim, i) => {
    const primary = i < SCENARIO_ASSETS.length ? SCENARIO_ASSETS[i]! : prng.weighted(PRIMARY_WEIGHTS);
    const assets = [primary];
    if (prng.chance(0.15)) assets.push(prng.weighted({ ...PRIMARY_WEIGHTS, [primary]: 0 }));
    assigned.set(victim, assets);
  });
  return assigned;
}

/** Every lost asset's total, split over the victims that lost it, with uneven (some large) shares. */
function splitLosses(prng: Prng, victims: readonly number[], assigned: ReadonlyMap<number, ScenarioAsset[]>): Map<number, Map<ScenarioAsset, bigint>> {
  const losses = new Map<number, Map<ScenarioAsset, bigint>>(victims.map((victim) => [victim, new Map()]));
  const totals = lostTotalsMinor();
  for (const asset of SCENARIO_ASSETS) {
    const holders = victims.filter((victim) => assigned.get(victim)!.includes(asset));
    const weights = holders.map(() => {
      const u = prng.next();
      return (1 + Math.floor(u * u * 99)) * (prng.chance(0.03) ? 10 : 1);
    });
    splitExact(asset, totals[asset], weights).forEach((part, i) => losses.get(holders[i]!)!.set(asset, part));
  }
  return losses;
}

interface AttackDraft {
  readonly attack: AttackPlan;
  /** What the account must hold beyond its own deposits: the losses, a prevented withdrawal, sometimes a remainder. */
  readonly holdings: Map<ScenarioAsset, bigint>;
}

/** One step a minute from `start`: an attacker works through one account's steps in order. */
function minuteClock(start: DateTime): { tick: () => DateTime; next: () => DateTime } {
  let at = start;
  return {
    tick: () => {
      const now = at;
      at = at.plus({ minutes: 1 });
      return now;
    },
    next: () => at,
  };
}

function planAttack(prng: Prng, accountId: string, losses: ReadonlyMap<ScenarioAsset, bigint>, attackers: Record<ScenarioAsset, string[]>): AttackDraft {
  const lostAssets = SCENARIO_ASSETS.filter((asset) => losses.has(asset));
  const amounts = lostAssets.map((asset) => {
    const total = losses.get(asset)!;
    const step = granuleMinor(asset);
    if (total / step < 2n || !prng.chance(0.25)) return [total];
    const first = share(prng, asset, total, 30, 70);
    return first < total ? [first, total - first] : [total];
  });
  const steps = amounts.reduce((sum, parts) => sum + 1 + 3 * parts.length, 0);
  const windowMinutes = Math.floor(TIMES.attackSettledBy.diff(TIMES.attackStart, 'minutes').minutes);
  const clock = minuteClock(TIMES.attackStart.plus({ minutes: prng.int(windowMinutes - steps + 1) }));
  const { tick } = clock;
  const whitelist: { asset: ScenarioAsset; address: string; at: DateTime }[] = [];
  const withdrawals: PlannedWithdrawal[] = [];
  const holdings = new Map<ScenarioAsset, bigint>();
  lostAssets.forEach((asset, i) => {
    const address = prng.pick(attackers[asset]);
    whitelist.push({ asset, address, at: tick() });
    for (const amountMinor of amounts[i]!) {
      const withdrawalId = `w-${withdrawals.length + 1}`;
      withdrawals.push({ accountId, withdrawalId, asset, amountMinor, address, requestAt: tick(), approveAt: tick(), settleAt: tick() });
    }
    const remainder = prng.chance(0.5) ? share(prng, asset, losses.get(asset)!, 5, 50) : 0n;
    holdings.set(asset, losses.get(asset)! + remainder);
  });
  invariant(clock.next().minus({ minutes: 1 }) <= TIMES.attackSettledBy, `the attack on ${accountId} settles after ${TIMES.attackSettledBy.toISO()}`);
  if (prng.chance(0.35)) {
    // A withdrawal still pending at detection: stopped, so prevented rather than lost.
    const asset = lostAssets[0]!;
    const amountMinor = share(prng, asset, losses.get(asset)!, 10, 60);
    const requestAt = TIMES.attackSettledBy.plus({ minutes: prng.between(1, 19) });
    const address = whitelist[0]!.address;
    const approveAt = prng.chance(0.5) ? requestAt.plus({ minutes: 1 }) : null;
    withdrawals.push({ accountId, withdrawalId: `w-${withdrawals.length + 1}`, asset, amountMinor, address, requestAt, approveAt, settleAt: null });
    holdings.set(asset, holdings.get(asset)! + amountMinor);
  }
  return { attack: { accountId, outcome: 'loss', whitelist, withdrawals }, holdings };
}

/**
 * An attack the halt stopped: the attacker's address whitelisted and withdrawals requested (some approved) at any time
 * of the attack, none settled by detection (they waited in the exchange's withdrawal queue). Reported, they are
 * cancelled: prevented, nothing lost.
 */
function planPreventedAttack(prng: Prng, accountId: string, attackers: Record<ScenarioAsset, string[]>): AttackDraft {
  const first = prng.weighted(PRIMARY_WEIGHTS);
  const assets = prng.chance(0.15) ? [first, prng.weighted({ ...PRIMARY_WEIGHTS, [first]: 0 })] : [first];
  const windowMinutes = Math.floor(TIMES.detection.diff(TIMES.attackStart, 'minutes').minutes);
  const clock = minuteClock(TIMES.attackStart.plus({ minutes: prng.int(windowMinutes - 3 * assets.length) }));
  const { tick } = clock;
  const whitelist: { asset: ScenarioAsset; address: string; at: DateTime }[] = [];
  const withdrawals: PlannedWithdrawal[] = [];
  const holdings = new Map<ScenarioAsset, bigint>();
  for (const asset of assets) {
    const address = prng.pick(attackers[asset]);
    whitelist.push({ asset, address, at: tick() });
    const amountMinor = randomAmount(prng, asset);
    const requestAt = tick();
    const approveAt = prng.chance(0.5) ? tick() : null;
    withdrawals.push({ accountId, withdrawalId: `w-${withdrawals.length + 1}`, asset, amountMinor, address, requestAt, approveAt, settleAt: null });
    holdings.set(asset, amountMinor + (prng.chance(0.5) ? share(prng, asset, amountMinor, 5, 50) : 0n));
  }
  invariant(clock.next() <= TIMES.detection, `the prevented attack on ${accountId} runs past detection`);
  return { attack: { accountId, outcome: 'prevented', whitelist, withdrawals }, holdings };
}

function attackerPools(prng: Prng): Record<ScenarioAsset, string[]> {
  const pool = (asset: ScenarioAsset, size: number) => Array.from({ length: size }, () => randomAddress(prng, asset));
  const evm = pool('ETH', 8);
  return { ETH: evm, USDC: evm, USDT: evm, CRO: evm, BTC: pool('BTC', 5), SOL: pool('SOL', 3) };
}

// ---- the protection programme's claims (March 2022) -------------------------------------------------------------

const FULL_DECLARATION = { policeReportCopyProvided: true, questionnaireCompleted: true, deviceJailbroken: false };
type MfaSetting = 'all' | 'withdrawal only';
type CodeSetting = 'programme start' | 'recent' | 'never';

interface ClaimCaseDefinition {
  readonly key: string;
  readonly asset: ScenarioAsset;
  /** One claim per amount (one unauthorized withdrawal each), filed a day apart. */
  readonly amounts: readonly string[];
  readonly mfa: MfaSetting;
  readonly code: CodeSetting;
  readonly declaration: Partial<ClaimDeclaration>;
  readonly expected: readonly ClaimOutcome[];
}

const denied = (...reasons: string[]): ClaimOutcome => ({ approved: false, reasons });
const ok = (capped = false): ClaimOutcome => ({ approved: true, capped });

/**
 * Every condition of the programme, allowed and failed; valued at MARCH_PRICES: 12.5 ETH = 36,875; 8 BTC = 345,600
 * (capped at 250,000); 55 ETH = 162,250 then 40 ETH = 118,000 (capped at the 87,750 left of the account's cap).
 */
export const CLAIM_CASES: readonly ClaimCaseDefinition[] = [
  { key: 'eligible', asset: 'ETH', amounts: ['12.5'], mfa: 'all', code: 'programme start', declaration: {}, expected: [ok()] },
  { key: 'capped', asset: 'BTC', amounts: ['8'], mfa: 'all', code: 'programme start', declaration: {}, expected: [ok(true)] },
  { key: 'cap-used-up', asset: 'ETH', amounts: ['55', '40'], mfa: 'all', code: 'programme start', declaration: {}, expected: [ok(), ok(true)] },
  { key: 'mfa-partial', asset: 'ETH', amounts: ['3.2'], mfa: 'withdrawal only', code: 'programme start', declaration: {}, expected: [denied('MFA_NOT_ON_ALL_TRANSACTIONS')] },
  { key: 'code-too-recent', asset: 'USDC', amounts: ['18000'], mfa: 'all', code: 'recent', declaration: {}, expected: [denied('ANTI_PHISHING_CODE_TOO_RECENT')] },
  { key: 'no-police-report', asset: 'ETH', amounts: ['6'], mfa: 'all', code: 'programme start', declaration: { policeReportReference: null }, expected: [denied('NO_POLICE_REPORT')] },
  { key: 'no-report-copy', asset: 'SOL', amounts: ['85'], mfa: 'all', code: 'programme start', declaration: { policeReportCopyProvided: false }, expected: [denied('NO_POLICE_REPORT_COPY')] },
  { key: 'questionnaire', asset: 'BTC', amounts: ['0.75'], mfa: 'all', code: 'programme start', declaration: { questionnaireCompleted: false }, expected: [denied('QUESTIONNAIRE_INCOMPLETE')] },
  { key: 'jailbroken', asset: 'CRO', amounts: ['40000'], mfa: 'all', code: 'programme start', declaration: { deviceJailbroken: true }, expected: [denied('DEVICE_JAILBROKEN')] },
  {
    key: 'several',
    asset: 'ETH',
    amounts: ['9.9'],
    mfa: 'withdrawal only',
    code: 'never',
    declaration: { policeReportReference: null, policeReportCopyProvided: false, questionnaireCompleted: false },
    expected: [denied('MFA_NOT_ON_ALL_TRANSACTIONS', 'ANTI_PHISHING_CODE_TOO_RECENT', 'NO_POLICE_REPORT', 'NO_POLICE_REPORT_COPY', 'QUESTIONNAIRE_INCOMPLETE')],
  },
];

function planClaimCase(prng: Prng, definition: ClaimCaseDefinition, order: number, accountId: string, phishers: string[]): ClaimCase {
  const minutes = order * 10;
  const address = prng.pick(phishers);
  const withdrawals = definition.amounts.map((amount, j): PlannedWithdrawal => {
    const requestAt = TIMES.phishingWithdrawals.plus({ minutes: minutes + j * 4 });
    return {
      accountId,
      withdrawalId: `w-${j + 1}`,
      asset: definition.asset,
      amountMinor: toMinor(definition.asset, amount),
      address,
      requestAt,
      approveAt: requestAt.plus({ minutes: 1 }),
      settleAt: requestAt.plus({ minutes: 2 }),
    };
  });
  const claims = withdrawals.map((withdrawal, j): PlannedClaim => ({
    accountId,
    claimId: `claim-${j + 1}`,
    withdrawalId: withdrawal.withdrawalId,
    at: TIMES.claimsFiled.plus({ hours: order, days: j }),
    declaration: { policeReportReference: `PR-2022-03-${prng.hex(6).toUpperCase()}`, ...FULL_DECLARATION, ...definition.declaration },
    expected: definition.expected[j]!,
  }));
  const codeAt = { 'programme start': TIMES.programmeStart.plus({ hours: 9 }), recent: TIMES.marchPrices.plus({ hours: 10 }), never: null }[definition.code];
  return {
    key: definition.key,
    accountId,
    mfa: definition.mfa === 'all' ? [...TRANSACTION_TYPES] : ['withdrawal'],
    antiPhishingAt: codeAt,
    attack: { accountId, outcome: 'loss', whitelist: [{ asset: definition.asset, address, at: TIMES.phishingWhitelisting.plus({ minutes }) }], withdrawals },
    claims,
  };
}

/** Claimants must hold what the phishers take. */
function claimHoldings(definition: ClaimCaseDefinition): Map<ScenarioAsset, bigint> {
  const total = definition.amounts.reduce((sum, amount) => sum + toMinor(definition.asset, amount), 0n);
  return new Map([[definition.asset, total + toMinor(definition.asset, ASSET_PROFILES[definition.asset].min)]]);
}

// ---- ordinary customers -------------------------------------------------------------------------------------------

function ownWithdrawal(prng: Prng, account: AccountPlan, requestAt: DateTime, approve: number | null, settle: number | null): PlannedWithdrawal {
  const { asset, address } = account.ownAddress;
  const deposit = account.deposits.find((candidate) => candidate.asset === asset)!;
  return {
    accountId: account.accountId,
    withdrawalId: 'w-1',
    asset,
    amountMinor: share(prng, asset, deposit.amountMinor, 10, 50),
    address,
    requestAt,
    approveAt: approve === null ? null : requestAt.plus({ minutes: approve }),
    settleAt: settle === null ? null : requestAt.plus({ minutes: settle }),
  };
}

function takeRoles(regular: readonly number[]) {
  const count = regular.length;
  let next = 0;
  const take = (n: number) => regular.slice(next, (next += n));
  const [haltedAccount, revokedTokenAccount, holdAccount] = take(3);
  return {
    haltedAccount: haltedAccount!,
    revokedTokenAccount: revokedTokenAccount!,
    holdAccount: holdAccount!,
    inFlightApproved: take(Math.max(1, Math.round(count * 0.005))),
    inFlightRequested: take(Math.max(1, Math.round(count * 0.003))),
    afterResumption: take(Math.max(2, Math.round(count * 0.01))),
    ordinary: take(Math.round(count * 0.04)),
    rest: regular.slice(next),
  };
}

// ---- the whole plan -----------------------------------------------------------------------------------------------

export function planScenario(seed: number, count: number): ScenarioPlan {
  if (!Number.isSafeInteger(count) || count < MIN_ACCOUNTS || count > MAX_ACCOUNTS) {
    throw new RangeError(`the scenario needs from ${MIN_ACCOUNTS} to ${MAX_ACCOUNTS} accounts, got ${count}`);
  }
  const prng = new Prng(seed);
  const order = prng.shuffle(Array.from({ length: count }, (_, i) => i));
  const victimOrder = order.slice(0, PUBLISHED.affectedAccounts);
  const claimants = order.slice(victimOrder.length, victimOrder.length + CLAIM_CASES.length);
  const roles = takeRoles(order.slice(victimOrder.length + CLAIM_CASES.length));

  // "In the majority of cases we prevented the unauthorized withdrawal": the losses fall on a minority.
  const lossVictims = victimOrder.slice(0, VICTIMS_WITH_LOSSES);
  const losses = splitLosses(prng, lossVictims, assignLostAssets(prng, lossVictims));
  const attackers = attackerPools(prng);
  const drafts = new Map(
    victimOrder.map((index) => {
      const accountId = accountIdOf(index, count);
      return [index, losses.has(index) ? planAttack(prng, accountId, losses.get(index)!, attackers) : planPreventedAttack(prng, accountId, attackers)];
    }),
  );
  const januaryClaimant = Math.min(...lossVictims);
  const late = new Set([roles.revokedTokenAccount, ...roles.rest.filter(() => prng.chance(0.1))]);

  const seeds = new Map<number, AccountSeed>();
  for (const [index, draft] of drafts) seeds.set(index, { index, extra: draft.holdings, profile: index === januaryClaimant ? 'protected' : 'random' });
  claimants.forEach((index, k) => seeds.set(index, { index, extra: claimHoldings(CLAIM_CASES[k]!), profile: 'bare' }));
  const accounts = Array.from({ length: count }, (_, index) =>
    planAccount(prng, seeds.get(index) ?? { index, extra: new Map(), profile: 'random' }, count, late.has(index)),
  );
  const claimant = accounts[januaryClaimant]!;
  invariant(claimant.openedAt <= TIMES.attackStart.minus({ days: 21 }), `the January claimant ${claimant.accountId} opened too late to be protected`);

  const phishers = Array.from({ length: 3 }, () => randomAddress(prng, 'ETH'));
  const claimCases = CLAIM_CASES.map((definition, k) => planClaimCase(prng, definition, k, accountIdOf(claimants[k]!, count), phishers));
  const firstLoss = drafts.get(januaryClaimant)!.attack.withdrawals.find((withdrawal) => withdrawal.settleAt !== null)!;
  const at = (index: number) => accounts[index]!;
  return {
    seed,
    accounts,
    victims: victimOrder.map((index) => drafts.get(index)!.attack),
    // Spread over ten hours, as customers withdraw; not all in one minute.
    ordinaryWithdrawals: roles.ordinary.map((index, i) => ownWithdrawal(prng, at(index), TIMES.ordinaryWithdrawals.plus({ minutes: 30 * (i % 20) }), 1, 5)),
    inFlightApproved: roles.inFlightApproved.map((index) => ownWithdrawal(prng, at(index), TIMES.detection.minus({ minutes: 11 }), 1, null)),
    inFlightRequested: roles.inFlightRequested.map((index) => ownWithdrawal(prng, at(index), TIMES.detection.minus({ minutes: 6 }), null, null)),
    afterResumption: roles.afterResumption.map((index) => ownWithdrawal(prng, at(index), TIMES.resumption.plus({ minutes: 18 }), 1, 10)),
    protectionEnrolments: roles.rest.filter(() => prng.chance(0.08)).map((index) => at(index).accountId),
    claimCases,
    januaryClaim: {
      accountId: claimant.accountId,
      claimId: 'claim-1',
      withdrawalId: firstLoss.withdrawalId,
      at: TIMES.programmeStart.plus({ days: 9, hours: 10 }),
      declaration: { policeReportReference: `PR-2022-02-${prng.hex(6).toUpperCase()}`, ...FULL_DECLARATION },
      // Reimbursed in full in January: nothing of the loss is left for the programme to pay either.
      expected: denied('TRANSACTION_BEFORE_PROGRAMME', 'LOSS_ALREADY_COMPENSATED'),
    },
    demo: {
      haltedAccount: at(roles.haltedAccount).accountId,
      revokedTokenAccount: at(roles.revokedTokenAccount).accountId,
      holdAccount: at(roles.holdAccount),
      notEnrolledVictim: accountIdOf(lossVictims.find((index) => index !== januaryClaimant)!, count),
    },
  };
}
