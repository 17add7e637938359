import { formatUsdCents, parsePrice, toMinor, valueUsdCents, type AssetCode } from '@app/domain';
import type { EventStore } from '@app/event-store';
import {
  allPages,
  incidentLedger,
  lossTotals,
  protectionClaims,
  reimbursements,
  type IncidentLedgerEntry,
  type IncidentLossTotals,
  type ProtectionClaimRow,
  type ReadStore,
  type ReimbursementRow,
} from '@app/projections';

/** Rows one query page brings; the report reads every page. */
const PAGE_ROWS = 1_000;
/** The platform stream's events that belong on an incident's timeline. */
const TIMELINE_TYPES = new Set(['WithdrawalsHalted', 'WithdrawalsResumed', 'AllTwoFactorTokensRevoked', 'WithdrawalPolicyChanged']);
/** A timeline longer than this is cut (and says so): a report is read by a person. */
const MAX_TIMELINE_ENTRIES = 200;

export interface TimelineEntry {
  readonly at: string;
  readonly label: string;
}

/** Everything the finance report of one incident shows, read from the ledger's own read models and log. */
export interface IncidentFinance {
  readonly totals: IncidentLossTotals;
  readonly accounts: readonly IncidentLedgerEntry[];
  readonly reimbursements: readonly ReimbursementRow[];
  /** Approved protection claims of the incident's affected accounts. */
  readonly approvedPayouts: readonly ProtectionClaimRow[];
  readonly timeline: readonly TimelineEntry[];
  readonly timelineCut: boolean;
  /** The log's head when the report was read. */
  readonly headPosition: bigint | undefined;
  /** Price per asset in 1e-8 USD, as loss totals recorded it; absent without a recorded price. */
  readonly pricesE8: ReadonlyMap<AssetCode, bigint>;
}

/** Null when the ledger holds no such incident. */
export async function readIncidentFinance(store: EventStore, readStore: ReadStore, incidentId: string): Promise<IncidentFinance | null> {
  const totals = await lossTotals(readStore, incidentId);
  if (totals === null) return null;
  const accounts = await allPages((cursor) => incidentLedger(readStore, incidentId, { cursor, limit: PAGE_ROWS }));
  const paid = await allPages((cursor) => reimbursements(readStore, { incidentId, cursor, limit: PAGE_ROWS }));
  const affected = new Set(accounts.map((account) => account.accountId));
  const approved = await allPages((cursor) => protectionClaims(readStore, { status: 'approved', cursor, limit: PAGE_ROWS }));
  const { timeline, cut } = await readTimeline(store, incidentId);
  const pricesE8 = new Map<AssetCode, bigint>();
  for (const row of totals.assets) {
    const parsed = row.priceUsd === null ? undefined : parsePrice(row.priceUsd);
    if (parsed?.ok) pricesE8.set(row.asset, parsed.scaled);
  }
  return {
    totals,
    accounts,
    reimbursements: paid,
    approvedPayouts: approved.filter((claim) => affected.has(claim.accountId)),
    timeline,
    timelineCut: cut,
    headPosition: await store.headPosition(),
    pricesE8,
  };
}

/** The incident's own stream, then the platform's halts, revocations and policy changes that name it or fall within it. */
async function readTimeline(store: EventStore, incidentId: string): Promise<{ timeline: TimelineEntry[]; cut: boolean }> {
  const entries: TimelineEntry[] = [];
  for await (const event of store.readStream(`incident-${incidentId}`, { maxCount: MAX_TIMELINE_ENTRIES })) {
    entries.push({ at: event.metadata.recordedAt, label: describeEvent(event.type, event.data) });
  }
  const opened = entries[0]?.at;
  const closed = entries.find((entry) => entry.label.startsWith('Incident closed'))?.at;
  for await (const event of store.readStream('platform')) {
    if (!TIMELINE_TYPES.has(event.type)) continue;
    const named = (event.data as { incidentId?: unknown }).incidentId;
    const at = event.metadata.recordedAt;
    const within = opened !== undefined && at >= opened && (closed === undefined || at <= closed);
    if (named === incidentId || (named === undefined && within)) entries.push({ at, label: describeEvent(event.type, event.data) });
    if (entries.length > MAX_TIMELINE_ENTRIES) break;
  }
  entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return { timeline: entries.slice(0, MAX_TIMELINE_ENTRIES), cut: entries.length > MAX_TIMELINE_ENTRIES };
}

function describeEvent(type: string, data: unknown): string {
  const fields = (data ?? {}) as Record<string, unknown>;
  const reason = typeof fields.reason === 'string' ? `: ${fields.reason}` : '';
  switch (type) {
    case 'IncidentOpened':
      return `Incident opened${typeof fields.title === 'string' ? `: ${fields.title}` : ''}`;
    case 'IncidentClosed':
      return 'Incident closed';
    case 'WithdrawalsHalted':
      return `Withdrawals halted${reason}`;
    case 'WithdrawalsResumed':
      return `Withdrawals resumed${reason}`;
    case 'AllTwoFactorTokensRevoked':
      return `Every 2FA token revoked${reason}`;
    case 'WithdrawalPolicyChanged':
      return `New-address hold set to ${String(fields.newAddressHoldHours)} hours`;
    default:
      return type.replace(/([a-z])([A-Z])/g, '$1 $2');
  }
}

/** USD cents of an amount at the incident's recorded price; null without one. */
export function usdCentsAt(finance: IncidentFinance, asset: AssetCode, amount: string): bigint | null {
  const priceE8 = finance.pricesE8.get(asset);
  return priceE8 === undefined ? null : valueUsdCents(asset, toMinor(asset, amount), priceE8);
}

export const usd = (cents: bigint | null): string => (cents === null ? '' : formatUsdCents(cents));
