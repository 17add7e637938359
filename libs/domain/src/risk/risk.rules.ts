import { List, Map as ImmutableMap } from 'immutable';
import { membersOf } from '../shared/assert';
import { ACCOUNT_STREAM_PREFIX } from '../streams';

/**
 * Risk rules over the live log (issue 11, part 2): pure functions of what the log said so far. They read and write
 * their working memory through RiskMemory (rows of a read model when the runner folds them, a Map in tests), take
 * time only from the events themselves, and name each detection after the log position that triggered it, so a
 * replay from position zero, a rebuild or a monitor killed mid-batch detects exactly the same alerts.
 */
export type RiskRuleName = 'fresh-address-withdrawal' | 'shared-destination' | 'withdrawal-burst' | 'weak-second-factor' | 'fresh-address-wave';
export const RISK_RULES = membersOf<RiskRuleName>({
  'fresh-address-withdrawal': true,
  'shared-destination': true,
  'withdrawal-burst': true,
  'weak-second-factor': true,
  'fresh-address-wave': true,
});

export type RiskSeverity = 'low' | 'medium' | 'high' | 'critical';
/** From the least to the most severe: severityAtLeast compares places in this order. */
export const RISK_SEVERITIES = membersOf<RiskSeverity>({ low: true, medium: true, high: true, critical: true });

export function severityAtLeast(severity: RiskSeverity, minimum: RiskSeverity): boolean {
  return RISK_SEVERITIES.indexOf(severity) >= RISK_SEVERITIES.indexOf(minimum);
}

export interface RiskThresholds {
  /** fresh-address-withdrawal: a withdrawal to an address whitelisted on the account less than this many minutes before. */
  readonly freshAddressMinutes: number;
  /** shared-destination: this many distinct accounts withdrawing to one address within the window. */
  readonly sharedDestinationAccounts: number;
  readonly sharedDestinationWindowMinutes: number;
  /** withdrawal-burst: withdrawals requested platform-wide within the window, at least this many... */
  readonly burstWindowMinutes: number;
  readonly burstMinWithdrawals: number;
  /** ...and at least this many times the average per window over the trailing baseline. */
  readonly burstBaselineFactor: number;
  readonly burstBaselineHours: number;
  /** fresh-address-wave: this many distinct accounts whitelisting addresses the platform has never seen, within the window. */
  readonly freshAddressWaveAccounts: number;
  readonly freshAddressWaveWindowMinutes: number;
}

/** What a fresh ledger monitors with, until RiskRulesChanged says otherwise. */
export const DEFAULT_RISK_THRESHOLDS: RiskThresholds = {
  freshAddressMinutes: 60,
  sharedDestinationAccounts: 3,
  sharedDestinationWindowMinutes: 60,
  burstWindowMinutes: 10,
  burstMinWithdrawals: 50,
  burstBaselineFactor: 5,
  burstBaselineHours: 24,
  freshAddressWaveAccounts: 20,
  freshAddressWaveWindowMinutes: 10,
};

/** Bounds of each threshold: whole numbers, checked at the edge and asserted by the decider. */
export const RISK_THRESHOLD_BOUNDS: Readonly<Record<keyof RiskThresholds, readonly [number, number]>> = {
  freshAddressMinutes: [1, 10_080],
  sharedDestinationAccounts: [2, 10_000],
  sharedDestinationWindowMinutes: [1, 1_440],
  burstWindowMinutes: [1, 1_440],
  burstMinWithdrawals: [1, 1_000_000],
  burstBaselineFactor: [1, 1_000],
  burstBaselineHours: [1, 168],
  freshAddressWaveAccounts: [2, 10_000],
  freshAddressWaveWindowMinutes: [1, 1_440],
};

/** The most withdrawals, accounts and positions one alert lists; the count beyond is in its summary. */
export const MAX_ALERT_ITEMS = 500;

export interface AlertedWithdrawal {
  readonly accountId: string;
  readonly withdrawalId: string;
}

/** A rule's hit: what RiskAlertRaised will record. */
export interface RiskDetection {
  /** `<rule>-<position>`: the same log, the same id. */
  readonly alertId: string;
  readonly rule: RiskRuleName;
  readonly severity: RiskSeverity;
  readonly summary: string;
  readonly accounts: readonly string[];
  readonly withdrawals: readonly AlertedWithdrawal[];
  /** The log positions of the events that triggered it, oldest first (decimal strings). */
  readonly positions: readonly string[];
  /** The time of the triggering event (its own timestamp, never a clock). */
  readonly detectedAt: string;
}

/** The monitor's working memory: plain-JSON docs by key. */
export interface RiskMemory {
  get<Doc>(key: string): Doc | undefined;
  put(key: string, doc: unknown): void;
}

/** The part of a recorded event the rules look at. */
export interface ObservedEvent {
  readonly type: string;
  readonly streamId: string;
  readonly position: bigint;
  readonly data: unknown;
}

interface Entry {
  readonly accountId: string;
  readonly withdrawalId: string | null;
  readonly atMs: number;
  readonly position: string;
}

/** A sliding window as stored: its entries in log order (at most MAX_ALERT_ITEMS). */
interface WindowDoc {
  readonly entries: readonly Entry[];
  /** When the last alert of this window was raised: no other until a window has passed (one alert per episode). */
  readonly alertedAtMs: number | null;
}

interface WhitelistedDoc {
  readonly atMs: number;
  /** fresh-address-withdrawal fired for this whitelisting. */
  readonly alerted: boolean;
}

/** withdrawal-burst's memory as stored. */
interface BurstDoc {
  /** [minute since the epoch, withdrawals requested in it], in log order, pruned to the baseline. */
  readonly minutes: ReadonlyArray<readonly [number, number]>;
  /** The latest withdrawals (at most MAX_ALERT_ITEMS), for the alert to name. */
  readonly recent: readonly Entry[];
  readonly alertedAtMs: number | null;
}

/**
 * Entries in log order, as a persistent list (a new version per event shares its structure with the last: O(log n)
 * per change, where copying an array would cost the window's size on every withdrawal). While their times never go
 * back (the usual case) the entries a window drops are a prefix, taken from the front; if a time ever goes back,
 * the list is filtered whole, as the arrays were.
 */
class Entries {
  private constructor(
    readonly list: List<Entry>,
    /** Every entry's time is at least the one before it. */
    readonly ordered: boolean,
    /** How many entries each account has in the list: distinct accounts without a scan. */
    readonly perAccount: ImmutableMap<string, number>,
  ) {}

  static of(entries: readonly Entry[]): Entries {
    let perAccount = ImmutableMap<string, number>().asMutable();
    let ordered = true;
    entries.forEach((entry, i) => {
      perAccount.set(entry.accountId, (perAccount.get(entry.accountId) ?? 0) + 1);
      if (i > 0 && entry.atMs < entries[i - 1]!.atMs) ordered = false;
    });
    return new Entries(List(entries), ordered, perAccount.asImmutable());
  }

  static readonly EMPTY = Entries.of([]);

  get distinctAccounts(): number {
    return this.perAccount.size;
  }

  toArray(): Entry[] {
    return this.list.toArray();
  }

  /** The entries younger than `windowMs` at `entry`'s time, then `entry`, keeping the last MAX_ALERT_ITEMS. */
  slide(entry: Entry, windowMs: number): Entries {
    const fresh = (e: Entry) => entry.atMs - e.atMs < windowMs;
    let next: Entries = this;
    if (!this.ordered) {
      next = Entries.of(this.list.filter(fresh).toArray());
    } else {
      while (next.list.size > 0 && !fresh(next.list.first()!)) next = next.shift();
    }
    const last = next.list.last();
    const ordered = next.ordered && (last === undefined || entry.atMs >= last.atMs);
    next = new Entries(next.list.push(entry), ordered, next.perAccount.set(entry.accountId, (next.perAccount.get(entry.accountId) ?? 0) + 1));
    return next.list.size > MAX_ALERT_ITEMS ? next.shift() : next;
  }

  private shift(): Entries {
    const first = this.list.first()!;
    const count = this.perAccount.get(first.accountId)!;
    const perAccount = count === 1 ? this.perAccount.delete(first.accountId) : this.perAccount.set(first.accountId, count - 1);
    // Dropping the first entry keeps the others in order; an unordered list may have become ordered, which only a
    // scan would tell: it stays marked unordered (and is filtered whole) until it is rebuilt.
    return new Entries(this.list.shift(), this.ordered, perAccount);
  }
}

/** A sliding window in memory (see Entries). */
interface WindowState {
  readonly entries: Entries;
  readonly alertedAtMs: number | null;
}

/**
 * withdrawal-burst's per-minute counts in memory: a persistent list in log order with their total, so that a
 * withdrawal costs the window's few minutes, not the 24-hour baseline's 1,440.
 */
interface BurstState {
  readonly minutes: List<readonly [number, number]>;
  /** Each minute is later than the one before it (the usual case; otherwise the list is scanned whole). */
  readonly ordered: boolean;
  readonly total: number;
  readonly recent: Entries;
  readonly alertedAtMs: number | null;
}

const WINDOW_PREFIX = 'risk/window/';
const BURST_KEY = 'risk/window/burst';

function burstStateOf(doc: BurstDoc): BurstState {
  let ordered = true;
  let total = 0;
  doc.minutes.forEach(([m, n], i) => {
    total += n;
    if (i > 0 && m <= doc.minutes[i - 1]![0]) ordered = false;
  });
  return { minutes: List(doc.minutes), ordered, total, recent: Entries.of(doc.recent), alertedAtMs: doc.alertedAtMs };
}

/**
 * The rules' docs as stored (plain JSON, the same shape as they always had) and as the rules hold them in memory:
 * the read model's codec calls these, once per row loaded and once per row per batch committed.
 */
export function decodeRiskMemoryDoc(key: string, stored: unknown): unknown {
  if (key === BURST_KEY) return burstStateOf(stored as BurstDoc);
  if (key.startsWith(WINDOW_PREFIX)) {
    const doc = stored as WindowDoc;
    return { entries: Entries.of(doc.entries), alertedAtMs: doc.alertedAtMs } satisfies WindowState;
  }
  return stored;
}

export function encodeRiskMemoryDoc(key: string, doc: unknown): unknown {
  if (key === BURST_KEY) {
    const state = doc as BurstState;
    return { minutes: state.minutes.toArray(), recent: state.recent.toArray(), alertedAtMs: state.alertedAtMs } satisfies BurstDoc;
  }
  if (key.startsWith(WINDOW_PREFIX)) {
    const state = doc as WindowState;
    return { entries: state.entries.toArray(), alertedAtMs: state.alertedAtMs } satisfies WindowDoc;
  }
  return doc;
}

const MINUTE_MS = 60_000;
export const THRESHOLDS_KEY = 'risk/thresholds';

interface WithdrawalRequestedData {
  readonly withdrawalId: string;
  readonly asset: string;
  readonly address: string;
  readonly requestedAt: string;
  readonly secondFactor?: { readonly amr: readonly string[] } | null;
}

interface AddressWhitelistedData {
  readonly asset: string;
  readonly address: string;
  readonly whitelistedAt: string;
  readonly secondFactor?: { readonly amr: readonly string[] } | null;
}

export function thresholdsIn(memory: RiskMemory): RiskThresholds {
  return memory.get<RiskThresholds>(THRESHOLDS_KEY) ?? DEFAULT_RISK_THRESHOLDS;
}

/** Folds one event into the memory and returns what it triggered (nothing for most events). */
export function observeForRisk(memory: RiskMemory, event: ObservedEvent): RiskDetection[] {
  if (event.type === 'RiskRulesChanged') {
    memory.put(THRESHOLDS_KEY, (event.data as { thresholds: RiskThresholds }).thresholds);
    return [];
  }
  if (!event.streamId.startsWith(ACCOUNT_STREAM_PREFIX)) return [];
  const accountId = event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
  const thresholds = thresholdsIn(memory);
  if (event.type === 'AddressWhitelisted') return whitelisted(memory, thresholds, accountId, event, event.data as AddressWhitelistedData);
  if (event.type === 'WithdrawalRequested') return requested(memory, thresholds, accountId, event, event.data as WithdrawalRequestedData);
  return [];
}

function detection(rule: RiskRuleName, severity: RiskSeverity, event: ObservedEvent, atMs: number, summary: string, entries: readonly Entry[]): RiskDetection {
  const listed = entries.slice(-MAX_ALERT_ITEMS);
  const accounts = [...new Set(listed.map((entry) => entry.accountId))];
  const withdrawals = listed.flatMap((entry) => (entry.withdrawalId === null ? [] : [{ accountId: entry.accountId, withdrawalId: entry.withdrawalId }]));
  return {
    alertId: `${rule}-${event.position.toString()}`,
    rule,
    severity,
    summary,
    accounts,
    withdrawals,
    positions: listed.map((entry) => entry.position),
    detectedAt: new Date(atMs).toISOString(),
  };
}

function whitelisted(memory: RiskMemory, thresholds: RiskThresholds, accountId: string, event: ObservedEvent, data: AddressWhitelistedData): RiskDetection[] {
  const atMs = Date.parse(data.whitelistedAt);
  memory.put(`risk/whitelisted/${accountId}/${data.asset}/${data.address}`, { atMs, alerted: false } satisfies WhitelistedDoc);
  rememberMethods(memory, accountId, data.secondFactor);
  const seenKey = `risk/seen/${data.asset}/${data.address}`;
  if (memory.get<boolean>(seenKey)) return [];
  memory.put(seenKey, true);
  // fresh-address-wave: addresses new to the platform, whitelisted by many accounts at once.
  const entry: Entry = { accountId, withdrawalId: null, atMs, position: event.position.toString() };
  const windowMs = thresholds.freshAddressWaveWindowMinutes * MINUTE_MS;
  const found = inWindow(memory, 'risk/window/fresh-address-wave', entry, windowMs, thresholds.freshAddressWaveAccounts);
  if (!found) return [];
  const n = new Set(found.map((e) => e.accountId)).size;
  return [detection('fresh-address-wave', 'high', event, atMs, `${n} accounts whitelisted addresses never seen before within ${thresholds.freshAddressWaveWindowMinutes} minutes`, found)];
}

function requested(memory: RiskMemory, thresholds: RiskThresholds, accountId: string, event: ObservedEvent, data: WithdrawalRequestedData): RiskDetection[] {
  const atMs = Date.parse(data.requestedAt);
  const position = event.position.toString();
  const entry: Entry = { accountId, withdrawalId: data.withdrawalId, atMs, position };
  const hits: RiskDetection[] = [];

  // Once per whitelisting: the account's later withdrawals to that address add nothing the first alert did not say.
  const whitelistedKey = `risk/whitelisted/${accountId}/${data.asset}/${data.address}`;
  const whitelisted = memory.get<WhitelistedDoc>(whitelistedKey);
  if (whitelisted !== undefined && !whitelisted.alerted && atMs - whitelisted.atMs < thresholds.freshAddressMinutes * MINUTE_MS) {
    memory.put(whitelistedKey, { ...whitelisted, alerted: true } satisfies WhitelistedDoc);
    const minutes = Math.floor((atMs - whitelisted.atMs) / MINUTE_MS);
    hits.push(detection('fresh-address-withdrawal', 'medium', event, atMs, `${accountId} withdraws ${data.asset} to an address whitelisted ${minutes === 1 ? '1 minute' : `${minutes} minutes`} earlier`, [entry]));
  }

  const sharedWindowMs = thresholds.sharedDestinationWindowMinutes * MINUTE_MS;
  const shared = inWindow(memory, `risk/window/destination/${data.asset}/${data.address}`, entry, sharedWindowMs, thresholds.sharedDestinationAccounts);
  if (shared) {
    const n = new Set(shared.map((e) => e.accountId)).size;
    hits.push(detection('shared-destination', 'high', event, atMs, `${n} accounts withdraw ${data.asset} to ${data.address} within ${thresholds.sharedDestinationWindowMinutes} minutes`, shared));
  }

  const burst = burstAfter(memory, thresholds, entry);
  if (burst) hits.push(detection('withdrawal-burst', 'high', event, atMs, burst.summary, burst.entries));

  const history = memory.get<number>(`risk/methods/${accountId}`);
  const methods = data.secondFactor?.amr.length ?? 0;
  if (history !== undefined && methods < history) {
    const what = methods === 0 ? 'without a second-factor proof' : `with ${methods} factor method(s)`;
    const severity: RiskSeverity = methods === 0 ? 'high' : 'medium';
    hits.push(detection('weak-second-factor', severity, event, atMs, `${accountId} withdraws ${what}; its earlier proofs used ${history}`, [entry]));
  }
  rememberMethods(memory, accountId, data.secondFactor);
  return hits;
}

/** weak-second-factor's memory: the most factor methods the account's proofs have used. */
function rememberMethods(memory: RiskMemory, accountId: string, proof: { readonly amr: readonly string[] } | null | undefined): void {
  if (!proof) return;
  const key = `risk/methods/${accountId}`;
  const known = memory.get<number>(key) ?? 0;
  if (proof.amr.length > known) memory.put(key, proof.amr.length);
}

/**
 * Adds the entry to a sliding window; returns the window's entries when it now holds `accounts` distinct accounts
 * and no alert of it was raised within the last window (one alert per episode), undefined otherwise.
 */
function inWindow(memory: RiskMemory, key: string, entry: Entry, windowMs: number, accounts: number): Entry[] | undefined {
  const doc = memory.get<WindowState>(key) ?? { entries: Entries.EMPTY, alertedAtMs: null };
  const entries = doc.entries.slide(entry, windowMs);
  const coolingDown = doc.alertedAtMs !== null && entry.atMs - doc.alertedAtMs < windowMs;
  const fires = entries.distinctAccounts >= accounts && !coolingDown;
  memory.put(key, { entries, alertedAtMs: fires ? entry.atMs : doc.alertedAtMs } satisfies WindowState);
  return fires ? entries.toArray() : undefined;
}

/** withdrawal-burst: the window's count against its minimum and the trailing baseline's average per window. */
function burstAfter(memory: RiskMemory, thresholds: RiskThresholds, entry: Entry): { summary: string; entries: Entry[] } | undefined {
  const doc = memory.get<BurstState>(BURST_KEY) ?? { minutes: List<readonly [number, number]>(), ordered: true, total: 0, recent: Entries.EMPTY, alertedAtMs: null };
  const minute = Math.floor(entry.atMs / MINUTE_MS);
  const oldest = minute - thresholds.burstBaselineHours * 60;
  let { minutes, ordered, total } = doc;
  if (ordered) {
    // The minutes past the baseline are a prefix.
    while (minutes.size > 0 && minutes.first()![0] <= oldest) {
      total -= minutes.first()![1];
      minutes = minutes.shift();
    }
  } else {
    minutes = minutes.filter(([m]) => m > oldest);
    total = minutes.reduce((sum, [, n]) => sum + n, 0);
  }
  const last = minutes.last();
  if (last && last[0] === minute) minutes = minutes.set(minutes.size - 1, [minute, last[1] + 1]);
  else {
    ordered = ordered && (last === undefined || minute > last[0]);
    minutes = minutes.push([minute, 1]);
  }
  total += 1;
  const windowStart = minute - thresholds.burstWindowMinutes;
  let inWindowCount = 0;
  if (ordered) {
    // The window's minutes are the last few.
    for (let i = minutes.size - 1; i >= 0; i -= 1) {
      const [m, n] = minutes.get(i)!;
      if (m <= windowStart) break;
      inWindowCount += n;
    }
  } else {
    minutes.forEach(([m, n]) => {
      if (m > windowStart) inWindowCount += n;
    });
  }
  const baselineCount = total - inWindowCount;
  // The baseline is what the log shows before the window, up to burstBaselineHours: on a young ledger, the time it
  // has; with no history before the window at all, the minimum alone decides.
  const firstMinute = minutes.first()![0];
  const baselineMinutes = Math.min(thresholds.burstBaselineHours * 60, windowStart - firstMinute + 1);
  const windowsInBaseline = Math.max(1, baselineMinutes / thresholds.burstWindowMinutes);
  const baseline = baselineCount / windowsInBaseline;
  const windowMs = thresholds.burstWindowMinutes * MINUTE_MS;
  const recent = doc.recent.slide(entry, windowMs);
  const coolingDown = doc.alertedAtMs !== null && entry.atMs - doc.alertedAtMs < windowMs;
  // Whole numbers only: count >= factor x average  <=>  count x windows >= factor x baseline count.
  const fires = !coolingDown && inWindowCount >= thresholds.burstMinWithdrawals && inWindowCount * windowsInBaseline >= thresholds.burstBaselineFactor * baselineCount;
  memory.put(BURST_KEY, { minutes, ordered, total, recent, alertedAtMs: fires ? entry.atMs : doc.alertedAtMs } satisfies BurstState);
  if (!fires) return undefined;
  const average = Math.round(baseline * 10) / 10;
  return {
    summary: `${inWindowCount} withdrawals requested within ${thresholds.burstWindowMinutes} minutes (baseline ${average} per ${thresholds.burstWindowMinutes} minutes over ${thresholds.burstBaselineHours} h)`,
    entries: recent.toArray(),
  };
}
