import { ASSET_CODES, formatUsdCents, parseUsdCents, RISK_RULES, type AssetCode, type RiskRuleName } from '@app/domain';
import type { IndexFields, ReadModelRow } from './projection';
import type { ReadStore } from './read-store.port';
import { BALANCES, type AccountRow, type BalanceRow } from './read-models/balances.projection';
import {
  INCIDENT_ACCOUNT_STATUSES,
  INCIDENT_LEDGER,
  type IncidentLedgerAssetRow,
  type IncidentLedgerRow,
} from './read-models/incident-ledger.projection';
import { LOSS_TOTALS, type IncidentRow, type LossTotalsRow } from './read-models/loss-totals.projection';
import { PROTECTION_CLAIM_STATUSES, PROTECTION_CLAIMS, type ProtectionClaimRow, type ProtectionClaimStatus } from './read-models/protection-claims.projection';
import { REIMBURSEMENTS, type ReimbursementRow } from './read-models/reimbursements.projection';
import { ALERT_KEY_PREFIX, RISK_ALERT_ROW_STATUSES, RISK_ALERTS, type RiskAlertRow, type RiskAlertRowStatus } from './read-models/risk-alerts.projection';

export const MAX_PAGE_LIMIT = 1_000;
export const DEFAULT_PAGE_LIMIT = 100;
const MAX_CURSOR_CHARS = 1_024;

export type QueryErrorCode = 'PAGE_LIMIT_OUT_OF_RANGE' | 'INVALID_CURSOR' | 'INVALID_FILTER';

/** A read refused because of its input: the API answers 400 with the code. */
export class QueryError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

/** A page of a listing; pass nextCursor back for the next page (null: this was the last). */
export interface Page<Item> {
  readonly items: Item[];
  readonly nextCursor: string | null;
}

/** Pages one `allPages` reads at most: a listing longer than that is a fault, not a report. */
export const MAX_ALL_PAGES = 10_000;

/** Every item of a paged listing, page after page (bounded by maxPages). */
export async function allPages<Item>(read: (cursor: string | undefined) => Promise<Page<Item>>, maxPages = MAX_ALL_PAGES): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const result = await read(cursor);
    items.push(...result.items);
    if (result.nextCursor === null) return items;
    cursor = result.nextCursor;
  }
  throw new Error(`a listing has more than ${maxPages} pages`);
}

export interface PageOptions {
  /** Opaque, from a previous page of the same listing. */
  readonly cursor?: string;
  /** 1 to MAX_PAGE_LIMIT; DEFAULT_PAGE_LIMIT when absent. */
  readonly limit?: number;
}

// ---- balances -------------------------------------------------------------------------------------------------

export interface AssetBalance {
  readonly available: string;
  readonly held: string;
  readonly withdrawn: string;
  readonly deposited: string;
  readonly reimbursed: string;
}

export interface AccountBalances {
  readonly accountId: string;
  /** By asset code, sorted. */
  readonly balances: Partial<Record<AssetCode, AssetBalance>>;
}

/** The balances of an account (as `Ledger.balances()` has them), or null when the account was never opened. */
export async function accountBalances(rs: ReadStore, accountId: string): Promise<AccountBalances | null> {
  // One row for the account and at most one per asset: one list call holds them all.
  const rows = await rs.list<AccountRow | BalanceRow>(BALANCES, { filter: { accountId }, limit: ASSET_CODES.length + 1 });
  const account = rows.find((row) => row.index.asset === null);
  if (account === undefined) return null;
  const balanceRows = rows
    .filter((row): row is ReadModelRow<BalanceRow> => row.index.asset !== null)
    .sort((a, b) => (a.doc.asset < b.doc.asset ? -1 : a.doc.asset > b.doc.asset ? 1 : 0));
  const balances: Partial<Record<AssetCode, AssetBalance>> = {};
  for (const { doc } of balanceRows) {
    balances[doc.asset] = {
      available: doc.available,
      held: doc.held,
      withdrawn: doc.withdrawn,
      deposited: doc.deposited,
      reimbursed: doc.reimbursed,
    };
  }
  return { accountId, balances };
}

// ---- incident ledger ------------------------------------------------------------------------------------------

export interface IncidentLedgerQuery extends PageOptions {
  readonly accountId?: string;
  /** Only accounts with an unauthorized withdrawal of this asset; each item then shows that asset only. */
  readonly asset?: string;
  /** With an asset: the status of that asset alone. */
  readonly status?: string;
}

/** One account in an incident: its unauthorized withdrawals, per-asset losses and reimbursements, its status. */
export type IncidentLedgerEntry = IncidentLedgerRow;

/** The incident ledger: every affected account of an incident, by account id. */
export async function incidentLedger(rs: ReadStore, incidentId: string, query: IncidentLedgerQuery = {}): Promise<Page<IncidentLedgerEntry>> {
  const status = query.status === undefined ? undefined : oneOf('status', query.status, INCIDENT_ACCOUNT_STATUSES);
  const filter: IndexFields = { incidentId, accountId: query.accountId, status, asset: query.asset ?? null };
  if (query.asset === undefined) {
    return page<IncidentLedgerRow, IncidentLedgerEntry>(rs, INCIDENT_LEDGER, filter, query, (doc) => doc);
  }
  return page<IncidentLedgerAssetRow, IncidentLedgerEntry>(rs, INCIDENT_LEDGER, filter, query, (doc) => ({
    incidentId: doc.incidentId,
    accountId: doc.accountId,
    status: doc.status,
    withdrawals: doc.withdrawals,
    assets: {
      [doc.asset]: { lost: doc.lost, prevented: doc.prevented, reimbursed: doc.reimbursed, paidOut: doc.paidOut, payoutUsd: doc.payoutUsd, outstanding: doc.outstanding },
    },
  }));
}

// ---- loss totals ----------------------------------------------------------------------------------------------

export interface IncidentLossTotals {
  readonly incidentId: string;
  readonly title: string;
  readonly openedAt: string;
  /** One entry per asset with an unauthorized withdrawal, by asset code. */
  readonly assets: LossTotalsRow[];
  /**
   * Sums of the per-asset USD values shown (each already rounded to the cent), so the lines add up to the total.
   * Assets without a price are left out of the sums and listed in unpricedAssets.
   */
  readonly totalLostUsd: string;
  readonly totalReimbursedUsd: string;
  /** What approved protection claims paid, in USD. */
  readonly totalPayoutUsd: string;
  readonly totalOutstandingUsd: string;
  readonly unpricedAssets: AssetCode[];
}

/** Per-asset loss totals of an incident with their USD sums; null when no such incident was opened. */
export async function lossTotals(rs: ReadStore, incidentId: string): Promise<IncidentLossTotals | null> {
  // The incident's row and at most one total per asset.
  const rows = await rs.list<IncidentRow | LossTotalsRow>(LOSS_TOTALS, { filter: { incidentId }, limit: ASSET_CODES.length + 1 });
  const incident = rows.find((row) => row.index.asset === null)?.doc as IncidentRow | undefined;
  if (incident === undefined) return null;
  const assets = rows.filter((row) => row.index.asset !== null).map((row) => row.doc as LossTotalsRow);
  assets.sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
  const sum = (field: 'lostUsd' | 'reimbursedUsd' | 'outstandingUsd'): string =>
    formatUsdCents(assets.reduce((cents, total) => cents + (total[field] === null ? 0n : parseUsdCents(total[field])), 0n));
  return {
    incidentId,
    title: incident.title,
    openedAt: incident.openedAt,
    assets,
    totalLostUsd: sum('lostUsd'),
    totalReimbursedUsd: sum('reimbursedUsd'),
    totalPayoutUsd: formatUsdCents(assets.reduce((cents, total) => cents + parseUsdCents(total.payoutUsd), 0n)),
    totalOutstandingUsd: sum('outstandingUsd'),
    unpricedAssets: assets.filter((total) => total.priceUsd === null).map((total) => total.asset),
  };
}

// ---- reimbursements -------------------------------------------------------------------------------------------

export interface ReimbursementsQuery extends PageOptions {
  readonly incidentId?: string;
  readonly accountId?: string;
  readonly asset?: string;
}

/** Reimbursements in the order the ledger recorded them. */
export async function reimbursements(rs: ReadStore, query: ReimbursementsQuery = {}): Promise<Page<ReimbursementRow>> {
  const filter: IndexFields = { incidentId: query.incidentId, accountId: query.accountId, asset: query.asset };
  return page<ReimbursementRow, ReimbursementRow>(rs, REIMBURSEMENTS, filter, query, (doc) => doc);
}

// ---- protection claims ----------------------------------------------------------------------------------------

export interface ProtectionClaimsQuery extends PageOptions {
  readonly status?: string;
  readonly accountId?: string;
}

/** Protection claims by account and claim id. */
export async function protectionClaims(rs: ReadStore, query: ProtectionClaimsQuery = {}): Promise<Page<ProtectionClaimRow>> {
  const status = query.status === undefined ? undefined : oneOf<ProtectionClaimStatus>('status', query.status, PROTECTION_CLAIM_STATUSES);
  return page<ProtectionClaimRow, ProtectionClaimRow>(rs, PROTECTION_CLAIMS, { status, accountId: query.accountId }, query, (doc) => doc);
}

export interface RiskAlertsQuery extends PageOptions {
  readonly status?: string;
  readonly rule?: string;
}

/** Rows scanned at most for one page of alerts filtered by rule (alerts are few; the rule is not indexed). */
const MAX_RULE_SCAN = 10_000;

/** Risk alerts in the order of the positions that triggered them, optionally by status and rule. */
export async function riskAlerts(rs: ReadStore, query: RiskAlertsQuery = {}): Promise<Page<RiskAlertRow>> {
  const status = query.status === undefined ? undefined : oneOf<RiskAlertRowStatus>('status', query.status, RISK_ALERT_ROW_STATUSES);
  const rule = query.rule === undefined ? undefined : oneOf<RiskRuleName>('rule', query.rule, RISK_RULES);
  const limit = pageLimit(query.limit);
  let afterKey = query.cursor === undefined ? ALERT_KEY_PREFIX : decodeCursor(RISK_ALERTS, query.cursor);
  const items: ReadModelRow<RiskAlertRow>[] = [];
  let more = false;
  for (let scanned = 0; scanned < MAX_RULE_SCAN; ) {
    const rows = await rs.list<RiskAlertRow>(RISK_ALERTS, { filter: status === undefined ? {} : { status }, afterKey, limit: limit + 1 });
    const alerts = rows.filter((row) => row.key.startsWith(ALERT_KEY_PREFIX));
    scanned += rows.length;
    for (const row of alerts) {
      if (rule !== undefined && row.doc.rule !== rule) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(row);
    }
    // The memory rows (risk/...) sort after every alert row: past the alerts, nothing more can match.
    if (more || rows.length <= limit || alerts.length < rows.length) break;
    afterKey = rows[rows.length - 1]!.key;
  }
  const nextCursor = more ? encodeCursor(RISK_ALERTS, items[items.length - 1]!.key) : null;
  return { items: items.map((row) => row.doc), nextCursor };
}

// ---- paging ---------------------------------------------------------------------------------------------------

/** A page of rows: one more row than asked is read, so the last page says so (nextCursor null). */
async function page<Doc, Item>(
  rs: ReadStore,
  projection: string,
  filter: IndexFields,
  options: PageOptions,
  toItem: (doc: Doc) => Item,
): Promise<Page<Item>> {
  const limit = pageLimit(options.limit);
  const afterKey = options.cursor === undefined ? undefined : decodeCursor(projection, options.cursor);
  const rows = await rs.list<Doc>(projection, { filter, afterKey, limit: limit + 1 });
  const items = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? encodeCursor(projection, items[items.length - 1]!.key) : null;
  return { items: items.map((row) => toItem(row.doc)), nextCursor };
}

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new QueryError('PAGE_LIMIT_OUT_OF_RANGE', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

interface CursorBody {
  /** The projection the cursor pages, so that a cursor from another listing is refused. */
  readonly p: string;
  /** The last key of the page. */
  readonly k: string;
}

export function encodeCursor(projection: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ p: projection, k: lastKey } satisfies CursorBody), 'utf8').toString('base64url');
}

export function decodeCursor(projection: string, cursor: string): string {
  const invalid = new QueryError('INVALID_CURSOR', 'cursor is not one this listing returned');
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid;
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const { p, k } = (body ?? {}) as Partial<CursorBody>;
  if (p !== projection || typeof k !== 'string' || k.length === 0) throw invalid;
  return k;
}

function oneOf<Value extends string>(field: string, value: string, allowed: readonly Value[]): Value {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new QueryError('INVALID_FILTER', `${field} must be one of ${allowed.join(', ')}`);
  }
  return value as Value;
}
