import {
  ASSET_CODES,
  assertNever,
  formatAmount,
  formatUsdCents,
  invariant,
  parseUsdCents,
  parsePrice,
  toMinor,
  valueUsd,
  type Amount,
  type AssetCode,
} from '@app/domain';
import type { RecordedEvent } from '@app/event-store';
import type { Projection, ReadModelView } from '../../projection';
import { accountIdOf, dataOf, sortedRecord } from '../support';

export const LOSS_TOTALS = 'loss-totals';

type Handled = 'IncidentOpened' | 'AssetPriceRecorded' | 'UnauthorizedWithdrawalDetected' | 'Reimbursed' | 'ProtectionClaimApproved';
const HANDLES = new Set<Handled>(['IncidentOpened', 'AssetPriceRecorded', 'UnauthorizedWithdrawalDetected', 'Reimbursed', 'ProtectionClaimApproved']);

/** The latest recorded price of an asset, as the projection has folded it so far. */
export interface PriceRow {
  readonly asset: AssetCode;
  /** USD per whole unit, canonical (up to 8 decimals). */
  readonly usd: string;
  readonly recordedAt: string;
}

/** An incident as opened, with the price of every asset recorded before it: losses are valued at these. */
export interface IncidentRow {
  readonly incidentId: string;
  readonly title: string;
  readonly openedAt: string;
  readonly pricesAtOpening: Readonly<Partial<Record<AssetCode, PriceRow>>>;
}

/** Where the price of a loss total comes from. */
export type PriceSource = 'incident-opened' | 'first-detection';

/** Per (incident, asset): amounts, accounts affected, and their USD value at the price recorded before detection. */
export interface LossTotalsRow {
  readonly incidentId: string;
  readonly asset: AssetCode;
  readonly lost: Amount;
  readonly prevented: Amount;
  readonly reimbursed: Amount;
  /** What approved protection claims compensated of the loss, in the asset. */
  readonly paidOut: Amount;
  /** What those claims paid, in USD with two decimals (the payouts themselves, not a valuation). */
  readonly payoutUsd: string;
  /** lost - reimbursed - paidOut: a loss is compensated at most once. */
  readonly outstanding: Amount;
  /** Accounts with an unauthorized withdrawal of this asset in this incident (lost or prevented). */
  readonly affectedAccounts: number;
  /** USD per unit: the latest price when the incident was opened, else the latest at the first detection. */
  readonly priceUsd: string | null;
  readonly priceRecordedAt: string | null;
  readonly priceSource: PriceSource | null;
  /** USD with 2 decimals (exact, rounded half-up once); null without a price. */
  readonly lostUsd: string | null;
  readonly reimbursedUsd: string | null;
  readonly outstandingUsd: string | null;
}

// Keys: `price/{asset}`, `incident/{incidentId}`, `total/{incidentId}/{asset}`, `affected/{incidentId}/{asset}/{accountId}`.
export const priceKey = (asset: AssetCode): string => `price/${asset}`;
export const incidentKey = (incidentId: string): string => `incident/${incidentId}`;
export const totalKey = (incidentId: string, asset: AssetCode): string => `total/${incidentId}/${asset}`;
const affectedKey = (incidentId: string, asset: AssetCode, accountId: string): string => `affected/${incidentId}/${asset}/${accountId}`;

function priceE8(asset: AssetCode, usd: string): bigint {
  const parsed = parsePrice(usd);
  invariant(parsed.ok, `recorded ${asset} price ${usd} does not parse`);
  return parsed.scaled;
}

/** The USD fields of a total from its amounts and its price. */
function valued(total: Omit<LossTotalsRow, 'lostUsd' | 'reimbursedUsd' | 'outstandingUsd'>): LossTotalsRow {
  if (total.priceUsd === null) return { ...total, lostUsd: null, reimbursedUsd: null, outstandingUsd: null };
  const price = priceE8(total.asset, total.priceUsd);
  const usd = (amount: Amount): string => valueUsd(total.asset, toMinor(total.asset, amount), price);
  return { ...total, lostUsd: usd(total.lost), reimbursedUsd: usd(total.reimbursed), outstandingUsd: usd(total.outstanding) };
}

/** A first total for an asset: its price is fixed now, from the incident's opening or else the latest recorded. */
function newTotal(view: ReadModelView, incidentId: string, asset: AssetCode): LossTotalsRow {
  const atOpening = view.get<IncidentRow>(incidentKey(incidentId))?.pricesAtOpening[asset];
  const latest = atOpening ? undefined : view.get<PriceRow>(priceKey(asset));
  const price = atOpening ?? latest ?? null;
  const priceSource: PriceSource | null = atOpening ? 'incident-opened' : latest ? 'first-detection' : null;
  return valued({
    incidentId,
    asset,
    lost: '0',
    prevented: '0',
    reimbursed: '0',
    paidOut: '0',
    payoutUsd: '0.00',
    outstanding: '0',
    affectedAccounts: 0,
    priceUsd: price?.usd ?? null,
    priceRecordedAt: price?.recordedAt ?? null,
    priceSource,
  });
}

interface TotalChange {
  readonly lostMinor?: bigint;
  readonly preventedMinor?: bigint;
  readonly reimbursedMinor?: bigint;
  readonly paidOutMinor?: bigint;
  readonly payoutUsdCents?: bigint;
  readonly accountId?: string;
}

function changeTotal(view: ReadModelView, incidentId: string, asset: AssetCode, change: TotalChange): void {
  const key = totalKey(incidentId, asset);
  const total = view.get<LossTotalsRow>(key) ?? newTotal(view, incidentId, asset);
  const lost = toMinor(asset, total.lost) + (change.lostMinor ?? 0n);
  const prevented = toMinor(asset, total.prevented) + (change.preventedMinor ?? 0n);
  const reimbursed = toMinor(asset, total.reimbursed) + (change.reimbursedMinor ?? 0n);
  const paidOut = toMinor(asset, total.paidOut) + (change.paidOutMinor ?? 0n);
  const payoutUsdCents = parseUsdCents(total.payoutUsd) + (change.payoutUsdCents ?? 0n);
  invariant(reimbursed + paidOut <= lost, `${asset} compensated beyond the loss of incident ${incidentId}`);
  let affectedAccounts = total.affectedAccounts;
  if (change.accountId !== undefined) {
    const member = affectedKey(incidentId, asset, change.accountId);
    if (view.get(member) === undefined) {
      view.put(member, { accountId: change.accountId }, {});
      affectedAccounts += 1;
    }
  }
  const next = valued({
    ...total,
    lost: formatAmount(asset, lost),
    prevented: formatAmount(asset, prevented),
    reimbursed: formatAmount(asset, reimbursed),
    paidOut: formatAmount(asset, paidOut),
    payoutUsd: formatUsdCents(payoutUsdCents),
    outstanding: formatAmount(asset, lost - reimbursed - paidOut),
    affectedAccounts,
  });
  view.put(key, next, { incidentId, asset });
}

function evolve(view: ReadModelView, event: RecordedEvent): void {
  const type = event.type as Handled;
  switch (type) {
    case 'AssetPriceRecorded': {
      const { asset, usd, recordedAt } = dataOf(event, type);
      view.put(priceKey(asset), { asset, usd, recordedAt } satisfies PriceRow, {});
      return;
    }
    case 'IncidentOpened': {
      const { incidentId, title, openedAt } = dataOf(event, type);
      const prices: Partial<Record<AssetCode, PriceRow>> = {};
      for (const asset of ASSET_CODES) {
        const price = view.get<PriceRow>(priceKey(asset));
        if (price) prices[asset] = price;
      }
      const row: IncidentRow = { incidentId, title, openedAt, pricesAtOpening: sortedRecord(prices) };
      view.put(incidentKey(incidentId), row, { incidentId });
      return;
    }
    case 'UnauthorizedWithdrawalDetected': {
      const { incidentId, asset, amount, outcome } = dataOf(event, type);
      const amountMinor = toMinor(asset, amount);
      const accountId = accountIdOf(event);
      changeTotal(view, incidentId, asset, outcome === 'loss' ? { lostMinor: amountMinor, accountId } : { preventedMinor: amountMinor, accountId });
      return;
    }
    case 'Reimbursed': {
      const { incidentId, asset, amount } = dataOf(event, type);
      invariant(view.get(totalKey(incidentId, asset)), `${asset} reimbursed in incident ${incidentId} without a loss`);
      changeTotal(view, incidentId, asset, { reimbursedMinor: toMinor(asset, amount) });
      return;
    }
    case 'ProtectionClaimApproved': {
      const { incidentId, asset, compensatedAmount, payoutUsd } = dataOf(event, type);
      invariant(view.get(totalKey(incidentId, asset)), `${asset} paid out in incident ${incidentId} without a loss`);
      changeTotal(view, incidentId, asset, { paidOutMinor: toMinor(asset, compensatedAmount), payoutUsdCents: toMinor('USD', payoutUsd) });
      return;
    }
    default:
      return assertNever(type);
  }
}

/**
 * Per-asset loss totals of each incident (what finance reports: lost, reimbursed, outstanding), valued in USD at the price recorded before detection: the
 * latest AssetPriceRecorded of the asset when the incident was opened, or if there was none then, the latest when
 * the asset's first unauthorized withdrawal in the incident was detected; null when neither existed (a price
 * recorded later does not change a total's price, so the report never moves with the market). Prices are folded
 * from the log into the projection's own rows, so a replay values everything identically.
 */
export const lossTotalsProjection: Projection = { name: LOSS_TOTALS, version: 2, handles: HANDLES, evolve, asOfSnapshots: true };
