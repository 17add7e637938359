import { createHash } from 'node:crypto';
import {
  assertNever,
  autoHaltApplies,
  formatAmount,
  formatUsdCents,
  parsePrice,
  parseUsdCents,
  toMinor,
  valueUsdCents,
  type AssetCode,
  type AutoHaltPolicy,
  type ProtectionDenialReason,
  PROTECTION_DENIAL_REASONS,
  RISK_RULES,
  type RiskRuleName,
  type RiskSeverity,
} from '@app/domain';
import { canonicalJson, exportJsonl, type EventStore } from '@app/event-store';
import {
  ALL_PROJECTIONS,
  allPages,
  incidentLedger,
  InMemoryReadStore,
  lossTotals,
  MAX_PAGE_LIMIT,
  openSqliteReadStore,
  protectionClaims,
  rebuild,
  reimbursements,
  replay,
  riskAlerts,
  type RiskAlertRow,
  type IncidentLedgerEntry,
  type LossTotalsRow,
  type Page,
  type Projection,
  type ProtectionClaimRow,
  type ReadStore,
  type ReimbursementRow,
} from '@app/projections';
import { DateTime } from 'luxon';
import { INCIDENT_ID, PUBLIC_MILESTONES, PUBLISHED, TIMES } from './facts';
import { incidentTimelineProjection, type AttackWindowRow, type TimelineEntryRow, type UnauthorizedWithdrawalRow } from './incident-timeline/incident-timeline.projection';
import { attackWindow, timelineEntries, unauthorizedWithdrawals } from './incident-timeline/incident-timeline.query';

/** The read models the report is computed from: the ledger's own, and the scenario's timeline. */
export const REPORT_PROJECTIONS: readonly Projection[] = [...ALL_PROJECTIONS, incidentTimelineProjection];
export const EASTERN_ZONE = 'America/New_York';
/** Pages one listing may read: far above what the scenario's incident needs, a bound all the same. */
const MAX_PAGES = 1_000;

export interface AssetFigure {
  readonly asset: AssetCode;
  readonly amount: string;
  /** USD at the price the incident's loss totals use (recorded before detection), 2 decimals. */
  readonly usd: string;
}

export interface LossFigure extends AssetFigure {
  readonly priceUsd: string;
  /** Accounts that lost or were stopped from losing this asset. */
  readonly accounts: number;
}

export interface TimelineItem {
  readonly at: string;
  /** The same instant in New York (the incident was on 2022-01-16 there). */
  readonly eastern: string;
  readonly event: string;
  readonly source: 'ledger' | 'public coverage';
  /** Public coverage gives only the day (UTC): the time shown is midnight. */
  readonly dateOnly: boolean;
}

export interface Duration {
  readonly seconds: number;
  readonly text: string;
}

export interface HaltDuration extends Duration {
  readonly haltedAt: string;
  readonly resumedAt: string;
  /** From the public "pausing withdrawals shortly" tweet (04:44 UTC) to the restoration. */
  readonly fromAnnouncement: Duration;
  readonly companyStatement: string;
  readonly explanation: string;
}

export interface ClaimsSummary {
  readonly filed: number;
  readonly approved: number;
  readonly denied: number;
  readonly capped: number;
  readonly claimedUsd: string;
  readonly payoutUsd: string;
  /** Denials per reason; a denial with several reasons counts under each. */
  readonly byReason: Partial<Record<ProtectionDenialReason, number>>;
}

/** The auto-halt policy the README recommends: the platform-wide rules, at high severity. */
export const RECOMMENDED_AUTO_HALT: AutoHaltPolicy = { rules: ['shared-destination', 'withdrawal-burst', 'fresh-address-wave'], minSeverity: 'high' };
/** Alerts the report lists one by one; the rest are counted. */
export const MAX_LISTED_ALERTS = 50;

export interface AlertItem {
  readonly alertId: string;
  readonly rule: RiskRuleName;
  readonly severity: RiskSeverity;
  readonly at: string;
  readonly summary: string;
  readonly accounts: number;
  /** Whether the recommended policy halts on it. */
  readonly halts: boolean;
}

export interface AlertMoment extends AlertItem {
  /** Whole minutes before the incident was opened (the exchange's own detection); negative when after. */
  readonly minutesBeforeDetection: number;
}

/** What the risk monitor's rules found in the log, measured against the incident's ground truth. */
export interface RiskSummary {
  readonly policy: AutoHaltPolicy;
  /** Alerts detected from the platform's start until the incident was opened. */
  readonly alertsBeforeDetection: number;
  readonly byRule: Partial<Record<RiskRuleName, number>>;
  readonly firstAlert: AlertMoment | null;
  /** The first alert the recommended policy halts on: when the monitor would have halted withdrawals. */
  readonly firstHaltingAlert: AlertMoment | null;
  /** Accounts of the incident (its ledger: attacked, lost or prevented) and the accounts those alerts named. */
  readonly attackedAccounts: number;
  readonly flaggedAccounts: number;
  readonly flaggedAttacked: number;
  /** flaggedAttacked / attackedAccounts and / flaggedAccounts, 3 decimals; null when the divisor is 0. */
  readonly recall: string | null;
  readonly precision: string | null;
  /** Had withdrawals halted at the first halting alert: unauthorized withdrawals it would have stopped before settlement. */
  readonly counterfactual: {
    readonly haltAt: string;
    /** Unauthorized withdrawals not settled by then (the historical halt stopped the prevented ones too). */
    readonly stopped: number;
    /** Of the settled (lost) ones, those that settled after that instant: losses the alert would have prevented. */
    readonly lossesPrevented: number;
    readonly lossesPreventedByAsset: readonly AssetFigure[];
    readonly lossesPreventedUsd: string;
  } | null;
  /** The first MAX_LISTED_ALERTS alerts before detection, in log order. */
  readonly timeline: readonly AlertItem[];
}

/** The incident's figures, every one computed from the read models. */
export interface IncidentReport {
  readonly incidentId: string;
  readonly title: string;
  readonly openedAt: string;
  readonly closedAt: string | null;
  readonly affectedAccounts: number;
  readonly accountsReimbursedInFull: number;
  readonly unauthorizedWithdrawals: { readonly total: number; readonly lost: number; readonly prevented: number };
  readonly attackWindow: { readonly firstRequestedAt: string; readonly lastRequestedAt: string } | null;
  /** ETH and BTC first (as the post-mortem lists them), then the others by code. */
  readonly losses: readonly LossFigure[];
  readonly otherAssetsUsd: string;
  readonly totalUsd: string;
  readonly prevented: readonly AssetFigure[];
  readonly preventedUsd: string;
  readonly reimbursed: readonly AssetFigure[];
  readonly reimbursedUsd: string;
  /** Lost minus reimbursed, per asset: what customers are still out of pocket. */
  readonly netCustomerLoss: Readonly<Partial<Record<AssetCode, string>>>;
  readonly netCustomerLossUsd: string;
  readonly claims: ClaimsSummary;
  readonly timeline: readonly TimelineItem[];
  readonly haltDuration: HaltDuration | null;
  readonly risk: RiskSummary;
}

/** The report with the rows behind it (the finance CSVs), all read from one read store. */
export interface IncidentReportData {
  readonly report: IncidentReport;
  readonly lossTotals: readonly LossTotalsRow[];
  readonly accounts: readonly IncidentLedgerEntry[];
  readonly reimbursements: readonly ReimbursementRow[];
  readonly claims: readonly ProtectionClaimRow[];
}

export interface VerifiedIncidentReport extends IncidentReportData {
  /** SHA-256 (hex) over the canonical JSONL export of the whole log (one line per event, each ending in \n). */
  readonly eventLogSha256: string;
  readonly events: number;
  /** Always true: a replay that disagrees throws ReportMismatchError instead. */
  readonly replayMatches: true;
}

export type ReportStage = 'read models' | 'replay' | 'log hash';

export interface ReportOptions {
  readonly store: EventStore;
  /** A SQLite file for the read models (beside the event store); in memory when absent. */
  readonly readStorePath?: string;
  readonly incidentId?: string;
  readonly onProgress?: (stage: ReportStage, done: number, total: number) => void;
  /** Stops the log hash between two events. */
  readonly signal?: AbortSignal;
}

/** The read models and a fresh in-memory replay disagree: one of them is wrong, and no figure can be trusted. */
export class ReportMismatchError extends Error {
  constructor(readonly path: string) {
    super(`the report from the read models and the report from an in-memory replay differ at ${path}`);
    this.name = 'ReportMismatchError';
  }
}

/**
 * Folds the log into the read models (SQLite beside the store, or memory), computes the report from them, computes it
 * again from an in-memory replay and insists the two agree, and hashes the canonical export of the log.
 */
export async function buildIncidentReport(options: ReportOptions): Promise<VerifiedIncidentReport> {
  const { store, onProgress } = options;
  const incidentId = options.incidentId ?? INCIDENT_ID;
  const readStore: ReadStore = options.readStorePath ? openSqliteReadStore({ path: options.readStorePath }) : new InMemoryReadStore();
  let data: IncidentReportData;
  try {
    const progress = (stage: ReportStage) => (p: { position: bigint; targetPosition: bigint }) => onProgress?.(stage, Number(p.position), Number(p.targetPosition));
    await rebuild({ store, readStore, projections: REPORT_PROJECTIONS, onProgress: progress('read models') });
    data = await computeIncidentReport(readStore, incidentId);
    const replayed = await replay({ store, projections: REPORT_PROJECTIONS, onProgress: progress('replay') });
    try {
      assertSame(data, await computeIncidentReport(replayed, incidentId));
    } finally {
      await replayed.close();
    }
  } finally {
    await readStore.close();
  }
  const { sha256, events } = await hashLog(store, onProgress, options.signal);
  return { ...data, eventLogSha256: sha256, events, replayMatches: true };
}

/** SHA-256 over exportJsonl of the whole log: the same log always gives the same digest. */
export async function hashLog(store: EventStore, onProgress?: ReportOptions['onProgress'], signal?: AbortSignal): Promise<{ sha256: string; events: number }> {
  const hash = createHash('sha256');
  const summary = await exportJsonl(store, { all: true }, (line) => void hash.update(`${line}\n`), {
    signal,
    onProgress: (p) => onProgress?.('log hash', p.events, Number(p.headPosition ?? 0n)),
  });
  return { sha256: hash.digest('hex'), events: summary.events };
}

function assertSame(fromReadModels: IncidentReportData, fromReplay: IncidentReportData): void {
  if (canonicalJson(fromReadModels) === canonicalJson(fromReplay)) return;
  throw new ReportMismatchError(firstDifference(fromReadModels, fromReplay, '$'));
}

function firstDifference(a: unknown, b: unknown, path: string): string {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return path;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const left = (a as Record<string, unknown>)[key];
    const right = (b as Record<string, unknown>)[key];
    if (canonicalJson(left) !== canonicalJson(right)) return firstDifference(left, right, `${path}.${key}`);
  }
  return path;
}

// ---- reading the read models ------------------------------------------------------------------------------------

function all<Item>(read: (cursor: string | undefined) => Promise<Page<Item>>): Promise<Item[]> {
  return allPages(read, MAX_PAGES);
}

/** Every figure of the report, from a read store the REPORT_PROJECTIONS have folded into. */
export async function computeIncidentReport(rs: ReadStore, incidentId: string = INCIDENT_ID): Promise<IncidentReportData> {
  const totals = await lossTotals(rs, incidentId);
  if (totals === null) throw new Error(`the read models hold no incident ${incidentId}`);
  const limit = MAX_PAGE_LIMIT;
  const accounts = await all((cursor) => incidentLedger(rs, incidentId, { cursor, limit }));
  const repaid = await all((cursor) => reimbursements(rs, { incidentId, cursor, limit }));
  const claims = await all((cursor) => protectionClaims(rs, { cursor, limit }));
  const alerts = await all((cursor) => riskAlerts(rs, { cursor, limit }));
  const unauthorized = (await all((cursor) => unauthorizedWithdrawals(rs, incidentId, cursor))).filter((row) => row.incidentId === incidentId);
  const entries = await timelineEntries(rs, limit);
  const window = await attackWindow(rs, incidentId);
  const assets = orderAssets(totals.assets);
  const withdrawals = accounts.flatMap((account) => account.withdrawals);
  const figure = (row: LossTotalsRow, field: 'lost' | 'prevented' | 'reimbursed' | 'outstanding'): AssetFigure => ({
    asset: row.asset,
    amount: row[field],
    usd: usdOf(row, row[field]),
  });
  const sumUsd = (figures: readonly AssetFigure[]) => formatUsdCents(figures.reduce((sum, f) => sum + parseUsdCents(f.usd), 0n));
  const lost = assets.filter((row) => row.lost !== '0');
  const losses = lost.map((row): LossFigure => ({ ...figure(row, 'lost'), priceUsd: row.priceUsd ?? '', accounts: row.affectedAccounts }));
  const prevented = assets.filter((row) => row.prevented !== '0').map((row) => figure(row, 'prevented'));
  const reimbursed = assets.filter((row) => row.reimbursed !== '0').map((row) => figure(row, 'reimbursed'));
  const closed = entries.find((e) => e.type === 'IncidentClosed' && e.incidentId === incidentId);
  const report: IncidentReport = {
    incidentId,
    title: totals.title,
    openedAt: totals.openedAt,
    closedAt: closed?.at ?? null,
    affectedAccounts: accounts.length,
    accountsReimbursedInFull: accounts.filter((account) => account.status === 'reimbursed').length,
    unauthorizedWithdrawals: {
      total: withdrawals.length,
      lost: withdrawals.filter((w) => w.outcome === 'loss').length,
      prevented: withdrawals.filter((w) => w.outcome === 'prevented').length,
    },
    attackWindow: window && { firstRequestedAt: window.firstRequestedAt, lastRequestedAt: window.lastRequestedAt },
    losses,
    otherAssetsUsd: sumUsd(losses.filter((f) => f.asset !== 'ETH' && f.asset !== 'BTC')),
    totalUsd: totals.totalLostUsd,
    prevented,
    preventedUsd: sumUsd(prevented),
    reimbursed,
    reimbursedUsd: totals.totalReimbursedUsd,
    netCustomerLoss: Object.fromEntries(lost.map((row) => [row.asset, row.outstanding])),
    netCustomerLossUsd: totals.totalOutstandingUsd,
    claims: summarizeClaims(claims),
    timeline: timelineOf(entries, incidentId, window),
    haltDuration: haltDurationOf(entries, incidentId),
    risk: riskSummaryOf({ alerts, openedAt: totals.openedAt, accounts, unauthorized, assets }),
  };
  return { report, lossTotals: assets, accounts, reimbursements: repaid, claims };
}

const ratio = (numerator: number, denominator: number): string | null => {
  if (denominator === 0) return null;
  // Per mille, rounded half up, in integers: the same log always prints the same figure.
  const perMille = Math.floor((numerator * 2000 + denominator) / (2 * denominator));
  return `${Math.floor(perMille / 1000)}.${String(perMille % 1000).padStart(3, '0')}`;
};

interface RiskInputs {
  readonly alerts: readonly RiskAlertRow[];
  readonly openedAt: string;
  readonly accounts: readonly IncidentLedgerEntry[];
  readonly unauthorized: readonly UnauthorizedWithdrawalRow[];
  readonly assets: readonly LossTotalsRow[];
}

function riskSummaryOf({ alerts, openedAt, accounts, unauthorized, assets }: RiskInputs): RiskSummary {
  const policy = RECOMMENDED_AUTO_HALT;
  const detectionMs = utc(openedAt).toMillis();
  const before = alerts.filter((alert) => utc(alert.detectedAt).toMillis() <= detectionMs);
  const item = (alert: RiskAlertRow): AlertItem => ({
    alertId: alert.alertId,
    rule: alert.rule,
    severity: alert.severity,
    at: alert.detectedAt,
    summary: alert.summary,
    accounts: alert.accounts.length,
    halts: autoHaltApplies(policy, alert.rule, alert.severity),
  });
  const moment = (alert: RiskAlertRow | undefined): AlertMoment | null =>
    alert ? { ...item(alert), minutesBeforeDetection: Math.floor((detectionMs - utc(alert.detectedAt).toMillis()) / 60_000) } : null;
  const byRule: Partial<Record<RiskRuleName, number>> = {};
  for (const rule of RISK_RULES) {
    const count = before.filter((alert) => alert.rule === rule).length;
    if (count > 0) byRule[rule] = count;
  }
  const halting = before.find((alert) => autoHaltApplies(policy, alert.rule, alert.severity));
  const attacked = new Set(accounts.map((account) => account.accountId));
  const flagged = new Set(before.flatMap((alert) => alert.accounts));
  const flaggedAttacked = [...flagged].filter((accountId) => attacked.has(accountId)).length;
  return {
    policy,
    alertsBeforeDetection: before.length,
    byRule,
    firstAlert: moment(before[0]),
    firstHaltingAlert: moment(halting),
    attackedAccounts: attacked.size,
    flaggedAccounts: flagged.size,
    flaggedAttacked,
    recall: ratio(flaggedAttacked, attacked.size),
    precision: ratio(flaggedAttacked, flagged.size),
    counterfactual: halting ? counterfactualOf(halting.detectedAt, accounts, unauthorized, assets) : null,
    timeline: before.slice(0, MAX_LISTED_ALERTS).map(item),
  };
}

/** What a halt at `haltAt` would have stopped: the unauthorized withdrawals that had not settled by then. */
function counterfactualOf(haltAt: string, accounts: readonly IncidentLedgerEntry[], unauthorized: readonly UnauthorizedWithdrawalRow[], assets: readonly LossTotalsRow[]): NonNullable<RiskSummary['counterfactual']> {
  const haltMs = utc(haltAt).toMillis();
  const late = unauthorized.filter((row) => row.settledAt === null || utc(row.settledAt).toMillis() > haltMs);
  const lateLosses = new Set(late.filter((row) => row.settledAt !== null).map((row) => `${row.accountId}/${row.withdrawalId}`));
  const sums = new Map<AssetCode, bigint>();
  for (const account of accounts) {
    for (const w of account.withdrawals) {
      if (w.outcome !== 'loss' || !lateLosses.has(`${account.accountId}/${w.withdrawalId}`)) continue;
      sums.set(w.asset, (sums.get(w.asset) ?? 0n) + toMinor(w.asset, w.amount));
    }
  }
  const byAsset = assets
    .filter((row) => sums.has(row.asset))
    .map((row): AssetFigure => {
      const amount = formatAmount(row.asset, sums.get(row.asset)!);
      return { asset: row.asset, amount, usd: usdOf(row, amount) };
    });
  return {
    haltAt,
    stopped: late.length,
    lossesPrevented: lateLosses.size,
    lossesPreventedByAsset: byAsset,
    lossesPreventedUsd: formatUsdCents(byAsset.reduce((sum, f) => sum + parseUsdCents(f.usd), 0n)),
  };
}

function orderAssets(rows: readonly LossTotalsRow[]): LossTotalsRow[] {
  const rank = (asset: AssetCode) => (asset === 'ETH' ? 0 : asset === 'BTC' ? 1 : 2);
  return [...rows].sort((a, b) => rank(a.asset) - rank(b.asset) || (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
}

/** An amount of the row's asset at the row's price (the one recorded before detection). */
function usdOf(row: LossTotalsRow, amount: string): string {
  if (row.priceUsd === null) throw new Error(`${row.asset} has no recorded price in incident ${row.incidentId}`);
  const price = parsePrice(row.priceUsd);
  if (!price.ok) throw new Error(`${row.asset} price ${row.priceUsd} does not parse`);
  return formatUsdCents(valueUsdCents(row.asset, toMinor(row.asset, amount), price.scaled));
}

function summarizeClaims(claims: readonly ProtectionClaimRow[]): ClaimsSummary {
  const approved = claims.filter((claim) => claim.status === 'approved');
  const denied = claims.filter((claim) => claim.status === 'denied');
  const byReason: Partial<Record<ProtectionDenialReason, number>> = {};
  for (const reason of PROTECTION_DENIAL_REASONS) {
    const count = denied.filter((claim) => claim.reasons.includes(reason)).length;
    if (count > 0) byReason[reason] = count;
  }
  const usd = (field: 'claimedUsd' | 'payoutUsd') => formatUsdCents(approved.reduce((sum, claim) => sum + toMinor('USD', claim[field] ?? '0'), 0n));
  return {
    filed: claims.length,
    approved: approved.length,
    denied: denied.length,
    capped: approved.filter((claim) => claim.capped === true).length,
    claimedUsd: usd('claimedUsd'),
    payoutUsd: usd('payoutUsd'),
    byReason,
  };
}

// ---- time ---------------------------------------------------------------------------------------------------------

const utc = (iso: string): DateTime => DateTime.fromISO(iso, { zone: 'utc' });

export function easternOf(iso: string): string {
  return utc(iso).setZone(EASTERN_ZONE).toFormat('yyyy-MM-dd HH:mm ZZZZ');
}

export function durationOf(seconds: number): Duration {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return { seconds, text: `${hours} h ${minutes} min${rest === 0 ? '' : ` ${rest} s`}` };
}

function describe(entry: TimelineEntryRow): string {
  const data = entry.data;
  switch (entry.type) {
    case 'IncidentOpened':
      return `Incident opened: ${String(data['title'])}`;
    case 'WithdrawalsHalted':
      return 'Withdrawals halted';
    case 'AllTwoFactorTokensRevoked':
      return 'Every 2FA token revoked, platform-wide';
    case 'AllTwoFactorTokensRevocationCompleted':
      return 'Revocation applied to every account';
    case 'WithdrawalsResumed':
      return `Withdrawals resumed after ${durationOf(Number(data['haltedForSeconds'])).text}`;
    case 'WithdrawalPolicyChanged':
      return `Hold on new whitelisted addresses: ${String(data['newAddressHoldHours'])} h (was ${String(data['previousNewAddressHoldHours'])} h)`;
    case 'IncidentClosed':
      return `Incident closed: ${String(data['summary'])}`;
    default:
      return assertNever(entry.type);
  }
}

/** The incident's ledger events and the platform's, with the attack window and public milestones, in time order. */
function timelineOf(entries: readonly TimelineEntryRow[], incidentId: string, window: AttackWindowRow | null): TimelineItem[] {
  // The incident's own events and the platform's (policy changes, revocation completed); not another incident's.
  const mine = entries.filter((e) => e.incidentId === incidentId || e.incidentId === null);
  const ledger = (at: string, event: string): TimelineItem => ({ at, eastern: easternOf(at), event, source: 'ledger', dateOnly: false });
  const items: TimelineItem[] = mine.map((e) => ledger(e.at, describe(e)));
  if (window) {
    items.push(ledger(window.firstRequestedAt, 'First unauthorized withdrawal requested'));
    items.push(ledger(window.lastRequestedAt, 'Last unauthorized withdrawal requested'));
  }
  for (const milestone of PUBLIC_MILESTONES) {
    const at = milestone.at.toISO({ suppressMilliseconds: false })!.replace('+00:00', 'Z');
    const eastern = milestone.dateOnly ? `${at.slice(0, 10)} (date only)` : easternOf(at);
    items.push({ at, eastern, event: milestone.label, source: 'public coverage', dateOnly: milestone.dateOnly });
  }
  // Stable: at one instant, ledger events keep log order and come before the public milestones.
  return items.sort((a, b) => utc(a.at).toMillis() - utc(b.at).toMillis());
}

function haltDurationOf(entries: readonly TimelineEntryRow[], incidentId: string): HaltDuration | null {
  const resumed = entries.find((e) => e.type === 'WithdrawalsResumed' && e.incidentId === incidentId);
  if (!resumed) return null;
  const haltedAt = String(resumed.data['haltedAt']);
  const seconds = Number(resumed.data['haltedForSeconds']);
  const fromAnnouncement = durationOf(Math.floor(utc(resumed.at).diff(TIMES.revocation, 'seconds').seconds));
  const halt = durationOf(seconds);
  return {
    ...halt,
    haltedAt,
    resumedAt: resumed.at,
    fromAnnouncement,
    companyStatement: PUBLISHED.companyDowntime,
    explanation:
      `The ledger halts withdrawals at detection (${easternOf(haltedAt)}, ${haltedAt} UTC) and resumes them at the ` +
      `restoration notice (${resumed.at} UTC): ${halt.text}. The exchange's CEO spoke of "${PUBLISHED.companyDowntime}" ` +
      `of downtime, which neither public pair of timestamps gives: from the 04:44 UTC "pausing withdrawals shortly" tweet ` +
      `to the restoration is ${fromAnnouncement.text}. Which start the company counted is not public.`,
  };
}
