import { ACCOUNT_STREAM_PREFIX } from '../streams';
import type { ObservedEvent, RiskDetection, RiskMemory, RiskRuleName, RiskSeverity, RiskThresholds } from '../risk/risk.rules';
import { MAX_ALERT_ITEMS, THRESHOLDS_KEY, thresholdsIn } from '../risk/risk.rules';

/**
 * The risk rules as first written (plain arrays, every window filtered and copied on each withdrawal), kept as the
 * oracle that the faster rules in ../risk/risk.rules.ts are checked against (risk.rules.spec.ts): the same log must
 * give the same detections, whatever order its times come in. Test-only; the build leaves it out.
 */

interface Entry {
  readonly accountId: string;
  readonly withdrawalId: string | null;
  readonly atMs: number;
  readonly position: string;
}

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

interface BurstDoc {
  /** [minute since the epoch, withdrawals requested in it], oldest first, pruned to the baseline. */
  readonly minutes: ReadonlyArray<readonly [number, number]>;
  /** The latest withdrawals (at most MAX_ALERT_ITEMS), for the alert to name. */
  readonly recent: readonly Entry[];
  readonly alertedAtMs: number | null;
}

const MINUTE_MS = 60_000;

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

/** Folds one event into the memory and returns what it triggered (nothing for most events). */
export function referenceObserveForRisk(memory: RiskMemory, event: ObservedEvent): RiskDetection[] {
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
  const doc = memory.get<WindowDoc>(key) ?? { entries: [], alertedAtMs: null };
  const entries = [...doc.entries.filter((e) => entry.atMs - e.atMs < windowMs), entry].slice(-MAX_ALERT_ITEMS);
  const distinct = new Set(entries.map((e) => e.accountId)).size;
  const coolingDown = doc.alertedAtMs !== null && entry.atMs - doc.alertedAtMs < windowMs;
  const fires = distinct >= accounts && !coolingDown;
  memory.put(key, { entries, alertedAtMs: fires ? entry.atMs : doc.alertedAtMs } satisfies WindowDoc);
  return fires ? entries : undefined;
}

/** withdrawal-burst: the window's count against its minimum and the trailing baseline's average per window. */
function burstAfter(memory: RiskMemory, thresholds: RiskThresholds, entry: Entry): { summary: string; entries: Entry[] } | undefined {
  const key = 'risk/window/burst';
  const doc = memory.get<BurstDoc>(key) ?? { minutes: [], recent: [], alertedAtMs: null };
  const minute = Math.floor(entry.atMs / MINUTE_MS);
  const oldest = minute - thresholds.burstBaselineHours * 60;
  const minutes = doc.minutes.filter(([m]) => m > oldest).map(([m, n]) => [m, n] as [number, number]);
  const last = minutes[minutes.length - 1];
  if (last && last[0] === minute) last[1] += 1;
  else minutes.push([minute, 1]);
  const windowStart = minute - thresholds.burstWindowMinutes;
  let inWindowCount = 0;
  let baselineCount = 0;
  for (const [m, n] of minutes) {
    if (m > windowStart) inWindowCount += n;
    else baselineCount += n;
  }
  // The baseline is what the log shows before the window, up to burstBaselineHours: on a young ledger, the time it
  // has; with no history before the window at all, the minimum alone decides.
  const firstMinute = minutes[0]![0];
  const baselineMinutes = Math.min(thresholds.burstBaselineHours * 60, windowStart - firstMinute + 1);
  const windowsInBaseline = Math.max(1, baselineMinutes / thresholds.burstWindowMinutes);
  const baseline = baselineCount / windowsInBaseline;
  const windowMs = thresholds.burstWindowMinutes * MINUTE_MS;
  const recent = [...doc.recent.filter((e) => entry.atMs - e.atMs < windowMs), entry].slice(-MAX_ALERT_ITEMS);
  const coolingDown = doc.alertedAtMs !== null && entry.atMs - doc.alertedAtMs < windowMs;
  // Whole numbers only: count >= factor x average  <=>  count x windows >= factor x baseline count.
  const fires = !coolingDown && inWindowCount >= thresholds.burstMinWithdrawals && inWindowCount * windowsInBaseline >= thresholds.burstBaselineFactor * baselineCount;
  memory.put(key, { minutes, recent, alertedAtMs: fires ? entry.atMs : doc.alertedAtMs } satisfies BurstDoc);
  if (!fires) return undefined;
  const average = Math.round(baseline * 10) / 10;
  return {
    summary: `${inWindowCount} withdrawals requested within ${thresholds.burstWindowMinutes} minutes (baseline ${average} per ${thresholds.burstWindowMinutes} minutes over ${thresholds.burstBaselineHours} h)`,
    entries: recent,
  };
}
