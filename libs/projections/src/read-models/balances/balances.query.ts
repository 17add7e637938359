import { ASSET_CODES, type AssetCode } from '@app/domain';
import type { ReadModelRow } from '../../projection';
import type { ReadStore } from '../../read-store.port';
import { BALANCES, type AccountRow, type BalanceRow } from './balances.projection';

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
