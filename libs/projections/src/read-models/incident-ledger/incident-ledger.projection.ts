import {
  assertNever,
  formatAmount,
  formatUsdCents,
  invariant,
  parseUsdCents,
  toMinor,
  type Amount,
  type AssetCode,
  type UnauthorizedOutcome,
} from '@app/domain';
import type { RecordedEvent } from '@app/event-store';
import type { Projection, ReadModelView } from '../../projection';
import { accountIdOf, dataOf, sortedRecord } from '../support';

export const INCIDENT_LEDGER = 'incident-ledger';

type Handled = 'UnauthorizedWithdrawalDetected' | 'Reimbursed' | 'ProtectionClaimApproved';
const HANDLES = new Set<Handled>(['UnauthorizedWithdrawalDetected', 'Reimbursed', 'ProtectionClaimApproved']);

/**
 * `prevented` when nothing was lost, `outstanding` while a loss is not fully compensated, `reimbursed` once it is
 * (by reimbursements, protection payouts, or both).
 */
export type IncidentAccountStatus = 'prevented' | 'outstanding' | 'reimbursed';
export const INCIDENT_ACCOUNT_STATUSES: readonly IncidentAccountStatus[] = ['prevented', 'outstanding', 'reimbursed'];

export interface UnauthorizedWithdrawalEntry {
  readonly withdrawalId: string;
  readonly asset: AssetCode;
  readonly amount: Amount;
  readonly outcome: UnauthorizedOutcome;
  readonly detectedAt: string;
}

export interface AssetLoss {
  readonly lost: Amount;
  readonly prevented: Amount;
  readonly reimbursed: Amount;
  /** What approved protection claims compensated of the loss, in the asset. */
  readonly paidOut: Amount;
  /** What those claims paid, in USD with two decimals. */
  readonly payoutUsd: string;
  /** lost - reimbursed - paidOut: a loss is compensated at most once. */
  readonly outstanding: Amount;
}

/** One account in one incident: its unauthorized withdrawals, and per asset what it lost and got back. */
export interface IncidentLedgerRow {
  readonly incidentId: string;
  readonly accountId: string;
  readonly status: IncidentAccountStatus;
  /** In the order they were detected. */
  readonly withdrawals: readonly UnauthorizedWithdrawalEntry[];
  /** By asset code, sorted. */
  readonly assets: Readonly<Partial<Record<AssetCode, AssetLoss>>>;
}

/** The same account and incident, one asset only: what a listing filtered by asset returns. */
export interface IncidentLedgerAssetRow extends AssetLoss {
  readonly incidentId: string;
  readonly accountId: string;
  readonly asset: AssetCode;
  /** The status of this asset alone. */
  readonly status: IncidentAccountStatus;
  readonly withdrawals: readonly UnauthorizedWithdrawalEntry[];
}

// Keys: `{incidentId}/{accountId}` (the account's row) and `{incidentId}/{accountId}/{asset}` (its asset rows).
export const incidentAccountKey = (incidentId: string, accountId: string): string => `${incidentId}/${accountId}`;
const incidentAssetKey = (incidentId: string, accountId: string, asset: AssetCode): string => `${incidentId}/${accountId}/${asset}`;

const NO_LOSS: AssetLoss = { lost: '0', prevented: '0', reimbursed: '0', paidOut: '0', payoutUsd: '0.00', outstanding: '0' };

interface LossChange {
  readonly lostMinor?: bigint;
  readonly preventedMinor?: bigint;
  readonly reimbursedMinor?: bigint;
  readonly paidOutMinor?: bigint;
  readonly payoutUsdCents?: bigint;
}

function changeLoss(asset: AssetCode, loss: AssetLoss, change: LossChange): AssetLoss {
  const lost = toMinor(asset, loss.lost) + (change.lostMinor ?? 0n);
  const prevented = toMinor(asset, loss.prevented) + (change.preventedMinor ?? 0n);
  const reimbursed = toMinor(asset, loss.reimbursed) + (change.reimbursedMinor ?? 0n);
  const paidOut = toMinor(asset, loss.paidOut) + (change.paidOutMinor ?? 0n);
  const payoutUsdCents = parseUsdCents(loss.payoutUsd) + (change.payoutUsdCents ?? 0n);
  // Rule 7: reimbursements and protection payouts together never exceed the loss they compensate.
  invariant(reimbursed + paidOut <= lost, `${asset} compensated beyond the loss`);
  return {
    lost: formatAmount(asset, lost),
    prevented: formatAmount(asset, prevented),
    reimbursed: formatAmount(asset, reimbursed),
    paidOut: formatAmount(asset, paidOut),
    payoutUsd: formatUsdCents(payoutUsdCents),
    outstanding: formatAmount(asset, lost - reimbursed - paidOut),
  };
}

function statusOf(losses: readonly AssetLoss[]): IncidentAccountStatus {
  if (losses.every((loss) => loss.lost === '0')) return 'prevented';
  return losses.some((loss) => loss.outstanding !== '0') ? 'outstanding' : 'reimbursed';
}

/** Applies a change in one asset to the account's row and to its row for that asset. */
function record(
  view: ReadModelView,
  ids: { incidentId: string; accountId: string; asset: AssetCode },
  change: LossChange,
  detected: UnauthorizedWithdrawalEntry | null,
): void {
  const { incidentId, accountId, asset } = ids;
  const accountKey = incidentAccountKey(incidentId, accountId);
  const assetKey = incidentAssetKey(incidentId, accountId, asset);
  const account = view.get<IncidentLedgerRow>(accountKey);
  const assetRow = view.get<IncidentLedgerAssetRow>(assetKey);
  invariant(detected !== null || (account && assetRow), `${asset} compensated to ${accountId} in ${incidentId} without a loss`);

  const loss = changeLoss(asset, assetRow ?? NO_LOSS, change);
  const assetWithdrawals = detected ? [...(assetRow?.withdrawals ?? []), detected] : (assetRow?.withdrawals ?? []);
  const assetStatus = statusOf([loss]);
  const nextAssetRow: IncidentLedgerAssetRow = { incidentId, accountId, asset, status: assetStatus, ...loss, withdrawals: assetWithdrawals };
  view.put(assetKey, nextAssetRow, { incidentId, accountId, asset, status: assetStatus });

  const assets = sortedRecord({ ...account?.assets, [asset]: loss });
  const status = statusOf(Object.values(assets));
  const withdrawals = detected ? [...(account?.withdrawals ?? []), detected] : (account?.withdrawals ?? []);
  const nextAccount: IncidentLedgerRow = { incidentId, accountId, status, withdrawals, assets };
  view.put(accountKey, nextAccount, { incidentId, accountId, asset: null, status });
}

function evolve(view: ReadModelView, event: RecordedEvent): void {
  const type = event.type as Handled;
  const accountId = accountIdOf(event);
  switch (type) {
    case 'UnauthorizedWithdrawalDetected': {
      const { withdrawalId, incidentId, asset, amount, outcome, detectedAt } = dataOf(event, type);
      const amountMinor = toMinor(asset, amount);
      const change = outcome === 'loss' ? { lostMinor: amountMinor } : { preventedMinor: amountMinor };
      record(view, { incidentId, accountId, asset }, change, { withdrawalId, asset, amount, outcome, detectedAt });
      return;
    }
    case 'Reimbursed': {
      const { incidentId, asset, amount } = dataOf(event, type);
      record(view, { incidentId, accountId, asset }, { reimbursedMinor: toMinor(asset, amount) }, null);
      return;
    }
    case 'ProtectionClaimApproved': {
      const { incidentId, asset, compensatedAmount, payoutUsd } = dataOf(event, type);
      const change = { paidOutMinor: toMinor(asset, compensatedAmount), payoutUsdCents: toMinor('USD', payoutUsd) };
      record(view, { incidentId, accountId, asset }, change, null);
      return;
    }
    default:
      return assertNever(type);
  }
}

/**
 * The incident ledger (what finance and auditors read of an incident): one row per (incident, account) with its unauthorized withdrawals, per-asset
 * losses, reimbursements and protection payouts, and a status (version 2 added the payouts); plus one row per (incident, account, asset), so that a listing filtered
 * by asset (or by the status of one asset) is an index read. Account rows have no asset in their index.
 */
export const incidentLedgerProjection: Projection = { name: INCIDENT_LEDGER, version: 2, handles: HANDLES, evolve };
