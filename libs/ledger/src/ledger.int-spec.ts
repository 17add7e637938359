import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '@app/domain';
import { openSqliteEventStore, type EventStore } from '@app/event-store';
import { DateTime } from 'luxon';
import { ManualClock } from './clock';
import { freshCommand, idempotentCommand, type Actor } from './command-metadata';
import { IdempotencyConflictError } from './errors';
import { Ledger } from './ledger';
import { TwoFactorRevocationJob } from './two-factor-revocation.job';

const actor: Actor = { id: 'test', role: 'service' };
const admin: Actor = { id: 'test-admin', role: 'admin' };
const ADDRESS = '0xA11CE00000000000000000000000000000000001';
const quietLogger = { log: () => undefined, error: () => undefined };

/** The command handlers on a real SQLite file: two ledgers (two connections) share it as two processes would. */
describe('Ledger command handlers on SQLite', () => {
  let dir: string;
  let stores: EventStore[];
  const clock = new ManualClock(DateTime.fromISO('2022-01-16T00:00:00Z', { zone: 'utc' }));

  function ledger(): Ledger {
    const store = openSqliteEventStore({ path: join(dir, 'ledger.db') });
    stores.push(store);
    return new Ledger(store, clock);
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-int-'));
    stores = [];
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function fund(l: Ledger, accountId: string, eth: string): Promise<void> {
    await l.executePlatform({ type: 'ChangeWithdrawalPolicy', data: { newAddressHoldHours: 0 } }, freshCommand(admin)).catch(() => undefined);
    // These tests are about the store and the handlers; the second-factor proof has suites of its own.
    await l.executePlatform({ type: 'ChangeSecondFactorPolicy', data: { required: false, mfaThresholdUsd: null } }, freshCommand(admin)).catch(() => undefined);
    await l.executeAccount(accountId, { type: 'OpenAccount', data: { accountId } }, freshCommand(actor));
    await l.executeAccount(accountId, { type: 'DepositFunds', data: { depositId: 'd1', asset: 'ETH', amount: eth } }, freshCommand(actor));
    await l.executeAccount(accountId, { type: 'EnrolTwoFactor', data: { tokenId: 't1', method: 'totp' } }, freshCommand(actor));
    await l.executeAccount(accountId, { type: 'WhitelistAddress', data: { asset: 'ETH', address: ADDRESS } }, freshCommand(actor));
  }

  it('never overdraws when two ledgers on one file race 100 withdrawals of 1 against a balance of 10', async () => {
    const [a, b] = [ledger(), ledger()];
    await fund(a, 'race', '10');
    const attempts = Array.from({ length: 100 }, (_, i) =>
      (i % 2 === 0 ? a : b).executeAccount(
        'race',
        { type: 'RequestWithdrawal', data: { withdrawalId: `w${i}`, asset: 'ETH', amount: '1', address: ADDRESS, twoFactorTokenId: 't1' } },
        freshCommand(actor),
      ),
    );
    const outcomes = await Promise.allSettled(attempts);
    const accepted = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(accepted).toHaveLength(10);
    expect(refused.every((error) => error instanceof DomainError && error.code === 'INSUFFICIENT_FUNDS')).toBe(true);
    const fresh = ledger();
    expect((await fresh.balances('race'))?.balances.ETH).toMatchObject({ available: '0', held: '10' });
  });

  function withdrawal(l: Ledger, accountId: string, withdrawalId: string) {
    return l.executeAccount(
      accountId,
      { type: 'RequestWithdrawal', data: { withdrawalId, asset: 'ETH', amount: '1', address: ADDRESS, twoFactorTokenId: 't1' } },
      freshCommand(actor),
    );
  }

  it('sees a halt made by another ledger on the same store object before its next decision', async () => {
    const a = ledger();
    const b = new Ledger(stores[0]!, clock);
    await fund(a, 'halted-here', '5');
    // a keeps the platform folded after this decision; b's halt must still reach a's next one.
    await withdrawal(a, 'halted-here', 'w0');
    await b.executePlatform({ type: 'HaltWithdrawals', data: { incidentId: null, reason: 'test' } }, freshCommand(admin));
    await expect(withdrawal(a, 'halted-here', 'w1')).rejects.toMatchObject({ code: 'WITHDRAWALS_HALTED' });
    await b.executePlatform({ type: 'ResumeWithdrawals', data: { incidentId: null, reason: 'done' } }, freshCommand(admin));
    await expect(withdrawal(a, 'halted-here', 'w2')).resolves.toMatchObject({ revision: 5n });
  });

  it('sees a halt by another connection that committed in the same turn as one of its own reads', async () => {
    const [a, b] = [ledger(), ledger()];
    await fund(a, 'same-turn', '5');
    await withdrawal(a, 'same-turn', 'w0');
    await new Promise((resolve) => setImmediate(resolve));
    // b's halt reaches its store's queue (its commit is now due in this turn's check phase, before anything a
    // schedules); then a reads the platform, in the same turn, and keeps what it read.
    const halt = b.executePlatform({ type: 'HaltWithdrawals', data: { incidentId: null, reason: 'test' } }, freshCommand(admin));
    for (let i = 0; i < 200; i += 1) await null;
    expect((await a.platformView()).withdrawalsHalted).toBe(false);
    await halt;
    await expect(withdrawal(a, 'same-turn', 'w1')).rejects.toMatchObject({ code: 'WITHDRAWALS_HALTED' });
  });

  it('sees a halt made by another process before its next decision', async () => {
    const [a, b] = [ledger(), ledger()];
    await fund(a, 'halted', '5');
    await withdrawal(a, 'halted', 'w0');
    await b.executePlatform({ type: 'HaltWithdrawals', data: { incidentId: null, reason: 'test' } }, freshCommand(admin));
    const request = a.executeAccount(
      'halted',
      { type: 'RequestWithdrawal', data: { withdrawalId: 'w1', asset: 'ETH', amount: '1', address: ADDRESS, twoFactorTokenId: 't1' } },
      freshCommand(actor),
    );
    await expect(request).rejects.toMatchObject({ code: 'WITHDRAWALS_HALTED' });
  });

  it('replays an idempotent command across processes and refuses its key with another request', async () => {
    const [a, b] = [ledger(), ledger()];
    await a.executeAccount('idem', { type: 'OpenAccount', data: { accountId: 'idem' } }, freshCommand(actor));
    const deposit = { type: 'DepositFunds' as const, data: { depositId: 'd1', asset: 'BTC' as const, amount: '1' } };
    const first = await a.executeAccount('idem', deposit, idempotentCommand(actor, 'k1', 'hash-1'));
    const replay = await b.executeAccount('idem', deposit, idempotentCommand(actor, 'k1', 'hash-1'));
    expect(replay).toEqual({ ...first, replayed: true });
    await expect(b.executeAccount('idem', deposit, idempotentCommand(actor, 'k1', 'hash-2'))).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('applies a platform-wide revocation once per token, however often the job runs', async () => {
    const l = ledger();
    for (const accountId of ['r1', 'r2', 'r3']) {
      await l.executeAccount(accountId, { type: 'OpenAccount', data: { accountId } }, freshCommand(actor));
      await l.executeAccount(accountId, { type: 'EnrolTwoFactor', data: { tokenId: 'old', method: 'sms' } }, freshCommand(actor));
    }
    await l.executeIncident('inc', { type: 'OpenIncident', data: { incidentId: 'inc', title: 't' } }, freshCommand(admin));
    clock.advance({ minutes: 1 });
    await l.executePlatform({ type: 'RevokeAllTwoFactorTokens', data: { revocationId: 'rev', incidentId: 'inc', reason: 'bypass' } }, freshCommand(admin));
    clock.advance({ minutes: 1 });
    await l.executeAccount('r2', { type: 'EnrolTwoFactor', data: { tokenId: 'new', method: 'totp' } }, freshCommand(actor));

    const job = new TwoFactorRevocationJob(l, quietLogger);
    const [first, concurrent] = await Promise.all([job.run('rev'), job.run('rev')]);
    expect(first).toEqual({ revocationId: 'rev', accountsScanned: 3, tokensRevoked: 3 });
    expect(concurrent).toBe(first);
    // A second process resuming the same revocation finds it complete.
    expect(await new TwoFactorRevocationJob(ledger(), quietLogger).resumePending()).toEqual([]);

    const revoked: string[] = [];
    for await (const event of stores[0]!.readAll({ filter: { eventTypes: ['TwoFactorTokenRevoked'] } })) {
      revoked.push(`${event.streamId}/${(event.data as { tokenId: string }).tokenId}`);
    }
    expect(revoked.sort()).toEqual(['account-r1/old', 'account-r2/old', 'account-r3/old']);
  });
});
