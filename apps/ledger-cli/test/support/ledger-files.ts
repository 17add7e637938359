import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { openSqliteEventStore } from '@app/event-store';
import { freshCommand, Ledger, systemClock, type Actor } from '@app/ledger';

const actor: Actor = { id: 'seed', role: 'service' };

/** Events seedLedger writes, at positions 1 to 5. */
export const SEEDED_EVENTS = 5;

/**
 * Through the real command handlers. alice: opened, 4836.26 ETH, 443.93 BTC (revisions 0-2); bob: opened,
 * 66200 USDC (revisions 0-1).
 */
export async function seedLedger(path: string): Promise<void> {
  const store = openSqliteEventStore({ path });
  try {
    const ledger = new Ledger(store, systemClock);
    for (const accountId of ['alice', 'bob']) {
      await ledger.executeAccount(accountId, { type: 'OpenAccount', data: { accountId } }, freshCommand(actor));
    }
    const deposit = (depositId: string, asset: 'ETH' | 'BTC' | 'USDC', amount: string) =>
      ({ type: 'DepositFunds', data: { depositId, asset, amount } }) as const;
    await ledger.executeAccount('alice', deposit('d1', 'ETH', '4836.26'), freshCommand(actor));
    await ledger.executeAccount('bob', deposit('d2', 'USDC', '66200'), freshCommand(actor));
    await ledger.executeAccount('alice', deposit('d3', 'BTC', '443.93'), freshCommand(actor));
  } finally {
    await store.close();
  }
}

/** One more deposit through the real handlers (the ledger may be open in a CLI process meanwhile). */
export async function depositTo(path: string, accountId: string, depositId: string, asset: 'ETH' | 'BTC' | 'USDC', amount: string): Promise<void> {
  const store = openSqliteEventStore({ path });
  try {
    await new Ledger(store, systemClock).executeAccount(accountId, { type: 'DepositFunds', data: { depositId, asset, amount } }, freshCommand(actor));
  } finally {
    await store.close();
  }
}

/** Opens a SQLite file (event store or read store) behind the ledger's back, to look or to tamper. */
export function withSqliteFile<T>(path: string, use: (db: Database.Database) => T): T {
  const db = new Database(path, { fileMustExist: true });
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/**
 * The checkpoints stored in a SQLite read store, by projection; empty while the file or its schema does not exist
 * yet (a projector just started). Read with a connection of its own, as another process would.
 */
export function storedCheckpoints(readStorePath: string, which: 'in use' | 'staged' = 'in use'): Map<string, number> {
  if (!existsSync(readStorePath)) return new Map();
  try {
    return withSqliteFile(readStorePath, (db) => {
      // The read models' checkpoints; the Merkle tree over the log keeps its own, committed apart.
      // A rebuild folds beside them under staged names (balances~rebuild) until it swaps them in.
      const rows = db.prepare<[], { projection: string; position: number }>("SELECT projection, position FROM checkpoints WHERE projection <> 'merkle-tree'").all();
      const staged = (name: string): boolean => name.endsWith('~rebuild');
      return new Map(rows.filter((row) => staged(row.projection) === (which === 'staged')).map((row) => [row.projection, row.position]));
    });
  } catch (error) {
    if (/no such table/.test(String(error))) return new Map();
    throw error;
  }
}
