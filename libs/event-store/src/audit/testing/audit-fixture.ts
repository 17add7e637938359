import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventToAppend } from '../../event-store.port';
import { eventsToAppend } from '../../events-to-append';
import { openSqliteEventStore, type SqliteEventStore } from '../../sqlite/sqlite-event-store';

/**
 * A real SQLite ledger file for the audit tests, and a tamperer that edits it behind the store's back with
 * better-sqlite3, as someone with access to the file could.
 */
export interface AuditFixture {
  readonly path: string;
  /** The store on the file; reopened by reopen(), closed by cleanup(). */
  store: SqliteEventStore;
  reopen(): Promise<SqliteEventStore>;
  cleanup(): Promise<void>;
}

export async function auditFixture(prefix = 'audit-'): Promise<AuditFixture> {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  const path = join(folder, 'ledger.db');
  const fixture: AuditFixture = {
    path,
    store: openSqliteEventStore({ path }),
    async reopen() {
      await fixture.store.close();
      fixture.store = openSqliteEventStore({ path });
      return fixture.store;
    },
    async cleanup() {
      await fixture.store.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
  return fixture;
}

export function anEvent(type: string, data: unknown): EventToAppend {
  const origin = {
    commandId: randomUUID(),
    correlationId: 'correlation-1',
    causationId: 'causation-1',
    actor: { id: 'ops-7', role: 'service' },
    recordedAt: '2022-01-17T05:31:12.000Z',
  };
  return eventsToAppend([{ type, data, schemaVersion: 1 }], origin, () => randomUUID())[0]!;
}

/**
 * Three interleaved streams, one event per append, so that positions and revisions differ:
 * account-alice has revisions 0-4, account-bob 0-2, platform 0-1 (10 events; positions 1-10).
 */
export async function appendIncidentStory(store: SqliteEventStore): Promise<void> {
  const steps: Array<[string, EventToAppend]> = [
    ['account-alice', anEvent('AccountOpened', { accountId: 'alice' })],
    ['account-bob', anEvent('AccountOpened', { accountId: 'bob' })],
    ['account-alice', anEvent('FundsDeposited', { depositId: 'd1', asset: 'ETH', amount: '4836.26' })],
    ['platform', anEvent('WithdrawalPolicyChanged', { newAddressHoldHours: 0 })],
    ['account-alice', anEvent('FundsDeposited', { depositId: 'd2', asset: 'BTC', amount: '443.93' })],
    ['account-bob', anEvent('FundsDeposited', { depositId: 'd3', asset: 'USDC', amount: '66200' })],
    ['account-alice', anEvent('WithdrawalRequested', { withdrawalId: 'w1', asset: 'ETH', amount: '12.5' })],
    ['platform', anEvent('WithdrawalsHalted', { reason: 'incident' })],
    ['account-bob', anEvent('WithdrawalRequested', { withdrawalId: 'w2', asset: 'USDC', amount: '100' })],
    ['account-alice', anEvent('WithdrawalCancelled', { withdrawalId: 'w1', reason: 'halt' })],
  ];
  for (const [streamId, event] of steps) await store.append(streamId, [event], { expectedRevision: 'any' });
}

export const STORY_EVENTS = 10;

export interface StoredRow {
  readonly position: number;
  readonly event_id: string;
  readonly stream_id: string;
  readonly revision: number;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** Edits the file directly. The store should be closed (or reopened afterwards) so that it reads the new bytes. */
export function tamper<T>(path: string, edit: (db: Database.Database) => T): T {
  const db = new Database(path, { fileMustExist: true });
  try {
    return edit(db);
  } finally {
    db.close();
  }
}

export function storedRow(path: string, streamId: string, revision: number): StoredRow {
  return tamper(path, (db) => {
    const row = db.prepare<[string, number], StoredRow>('SELECT * FROM events WHERE stream_id = ? AND revision = ?').get(streamId, revision);
    if (row === undefined) throw new Error(`no event ${streamId}@${revision}`);
    return row;
  });
}

export function setColumn(path: string, position: number, column: 'data' | 'metadata' | 'type', value: string): void {
  tamper(path, (db) => {
    const changed = db.prepare(`UPDATE events SET ${column} = ? WHERE position = ?`).run(value, position).changes;
    if (changed !== 1) throw new Error(`no event at position ${position}`);
  });
}

/** The text with one character replaced: the one-byte edit a tamperer makes. */
export function replaceOnce(text: string, from: string, to: string): string {
  const index = text.indexOf(from);
  if (index < 0) throw new Error(`${from} not found in ${text}`);
  return text.slice(0, index) + to + text.slice(index + from.length);
}
