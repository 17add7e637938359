import { assertNever, availableMinor, formatAmount, invariant, toMinor, type Amount, type AssetBalance, type AssetCode } from '@app/domain';
import type { RecordedEvent } from '@app/event-store';
import type { Projection, ReadModelView, RowCodec } from '../../projection';
import { accountIdOf, dataOf } from '../support';

export const BALANCES = 'balances';

type Handled =
  | 'AccountOpened'
  | 'FundsDeposited'
  | 'WithdrawalRequested'
  | 'WithdrawalSettled'
  | 'WithdrawalRejected'
  | 'WithdrawalCancelled'
  | 'Reimbursed';

const HANDLES = new Set<Handled>([
  'AccountOpened',
  'FundsDeposited',
  'WithdrawalRequested',
  'WithdrawalSettled',
  'WithdrawalRejected',
  'WithdrawalCancelled',
  'Reimbursed',
]);

/** The stored row of one account: it exists from AccountOpened, so an account without funds has balances `{}`. */
export interface AccountRow {
  readonly accountId: string;
  readonly openedAt: string;
}

/** The stored row of one (account, asset), as `Ledger.balances()` reports it. */
export interface BalanceRow {
  readonly accountId: string;
  readonly asset: AssetCode;
  readonly deposited: Amount;
  readonly reimbursed: Amount;
  readonly held: Amount;
  readonly withdrawn: Amount;
  /** deposited + reimbursed - held - withdrawn (rule 1, as the domain's availableMinor computes it). */
  readonly available: Amount;
}

/** A withdrawal still holding funds: its settlement, rejection or cancellation names only its id. */
export interface PendingWithdrawalRow {
  readonly accountId: string;
  readonly withdrawalId: string;
  readonly asset: AssetCode;
  readonly amount: Amount;
}

/** The domain's balance (so rule 1's `availableMinor` is the deciders' own), filed under its account and asset. */
interface BalanceDoc extends AssetBalance {
  readonly accountId: string;
  readonly asset: AssetCode;
}

interface PendingDoc {
  readonly accountId: string;
  readonly withdrawalId: string;
  readonly asset: AssetCode;
  readonly amountMinor: bigint;
}

type BalanceChange = Partial<Pick<BalanceDoc, 'depositedMinor' | 'reimbursedMinor' | 'heldMinor' | 'withdrawnMinor'>>;

// Keys: `account/{accountId}`, `balance/{accountId}/{asset}`, `pending/{accountId}/{withdrawalId}`.
export const accountKey = (accountId: string): string => `account/${accountId}`;
export const balanceKey = (accountId: string, asset: AssetCode): string => `balance/${accountId}/${asset}`;
const pendingKey = (accountId: string, withdrawalId: string): string => `pending/${accountId}/${withdrawalId}`;

function changeBalance(view: ReadModelView, accountId: string, asset: AssetCode, change: BalanceChange): void {
  const key = balanceKey(accountId, asset);
  const current = view.get<BalanceDoc>(key);
  const next: BalanceDoc = {
    accountId,
    asset,
    depositedMinor: (current?.depositedMinor ?? 0n) + (change.depositedMinor ?? 0n),
    reimbursedMinor: (current?.reimbursedMinor ?? 0n) + (change.reimbursedMinor ?? 0n),
    heldMinor: (current?.heldMinor ?? 0n) + (change.heldMinor ?? 0n),
    withdrawnMinor: (current?.withdrawnMinor ?? 0n) + (change.withdrawnMinor ?? 0n),
  };
  // The deciders refuse anything that breaks these; a projection that sees it has folded the log wrongly.
  invariant(next.heldMinor >= 0n, `held ${asset} of account ${accountId} would be negative`);
  invariant(availableMinor(next) >= 0n, `available ${asset} of account ${accountId} would be negative`);
  view.put(key, next, { accountId, asset });
}

/** Settled: the held funds leave; rejected or cancelled: the hold is released. */
function finishWithdrawal(view: ReadModelView, accountId: string, withdrawalId: string, settled: boolean): void {
  const key = pendingKey(accountId, withdrawalId);
  const pending = view.get<PendingDoc>(key);
  invariant(pending, `withdrawal ${withdrawalId} of account ${accountId} ends but holds no funds`);
  changeBalance(view, accountId, pending.asset, {
    heldMinor: -pending.amountMinor,
    withdrawnMinor: settled ? pending.amountMinor : 0n,
  });
  view.delete(key);
}

function evolve(view: ReadModelView, event: RecordedEvent): void {
  const type = event.type as Handled;
  const accountId = accountIdOf(event);
  switch (type) {
    case 'AccountOpened': {
      const { openedAt } = dataOf(event, type);
      view.put(accountKey(accountId), { accountId, openedAt } satisfies AccountRow, { accountId });
      return;
    }
    case 'FundsDeposited': {
      const { asset, amount } = dataOf(event, type);
      changeBalance(view, accountId, asset, { depositedMinor: toMinor(asset, amount) });
      return;
    }
    case 'WithdrawalRequested': {
      const { withdrawalId, asset, amount } = dataOf(event, type);
      const amountMinor = toMinor(asset, amount);
      changeBalance(view, accountId, asset, { heldMinor: amountMinor });
      view.put(pendingKey(accountId, withdrawalId), { accountId, withdrawalId, asset, amountMinor } satisfies PendingDoc, {});
      return;
    }
    case 'WithdrawalSettled':
      return finishWithdrawal(view, accountId, dataOf(event, type).withdrawalId, true);
    case 'WithdrawalRejected':
      return finishWithdrawal(view, accountId, dataOf(event, type).withdrawalId, false);
    case 'WithdrawalCancelled':
      return finishWithdrawal(view, accountId, dataOf(event, type).withdrawalId, false);
    case 'Reimbursed': {
      const { asset, amount } = dataOf(event, type);
      changeBalance(view, accountId, asset, { reimbursedMinor: toMinor(asset, amount) });
      return;
    }
    default:
      return assertNever(type);
  }
}

/** Balances and holds are bigint while folding; rows hold canonical decimal strings. */
const codec: RowCodec = {
  encode(key, doc) {
    if (key.startsWith('balance/')) {
      const balance = doc as BalanceDoc;
      const { accountId, asset } = balance;
      return {
        accountId,
        asset,
        deposited: formatAmount(asset, balance.depositedMinor),
        reimbursed: formatAmount(asset, balance.reimbursedMinor),
        held: formatAmount(asset, balance.heldMinor),
        withdrawn: formatAmount(asset, balance.withdrawnMinor),
        available: formatAmount(asset, availableMinor(balance)),
      } satisfies BalanceRow;
    }
    if (key.startsWith('pending/')) {
      const { accountId, withdrawalId, asset, amountMinor } = doc as PendingDoc;
      return { accountId, withdrawalId, asset, amount: formatAmount(asset, amountMinor) } satisfies PendingWithdrawalRow;
    }
    return doc;
  },
  decode(key, stored) {
    if (key.startsWith('balance/')) {
      const row = stored as BalanceRow;
      const { accountId, asset } = row;
      return {
        accountId,
        asset,
        depositedMinor: toMinor(asset, row.deposited),
        reimbursedMinor: toMinor(asset, row.reimbursed),
        heldMinor: toMinor(asset, row.held),
        withdrawnMinor: toMinor(asset, row.withdrawn),
      } satisfies BalanceDoc;
    }
    if (key.startsWith('pending/')) {
      const { accountId, withdrawalId, asset, amount } = stored as PendingWithdrawalRow;
      return { accountId, withdrawalId, asset, amountMinor: toMinor(asset, amount) } satisfies PendingDoc;
    }
    return stored;
  },
};

/**
 * Balances per (account, asset), exactly as `Ledger.balances()` folds them from the account stream: deposits and
 * reimbursements add, a requested withdrawal is held, a settled one leaves, a rejected or cancelled one is released.
 * Rows: `account/{id}` (index accountId), `balance/{id}/{asset}` (index accountId, asset), and, with no index,
 * `pending/{id}/{withdrawalId}` for withdrawals still holding funds.
 */
export const balancesProjection: Projection = { name: BALANCES, version: 1, handles: HANDLES, evolve, codec, partitionedBy: 'stream', foldWeight: 2 };
