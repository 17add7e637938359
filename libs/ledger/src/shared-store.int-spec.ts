import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresEventStore, openSqliteEventStore, type EventStore } from '@app/event-store';
import { describeWithPostgres, PostgresTestDatabase } from '@app/event-store/testing/postgres-test-database';
import { DateTime } from 'luxon';
import { ManualClock } from './clock';
import { freshCommand, type Actor } from './command-metadata';
import { Ledger } from './ledger';
import { TwoFactorRevocationJob } from './two-factor-revocation.job';

const service: Actor = { id: 'test', role: 'service' };
const admin: Actor = { id: 'test-admin', role: 'admin' };
const ADDRESS = '0xA11CE00000000000000000000000000000000001';
const quietLogger = { log: () => undefined, error: () => undefined };

interface SharedStore {
  /** A new store instance on the same data, as another process would open it. */
  open(): Promise<EventStore>;
  cleanUp(): Promise<void>;
}

/**
 * Two ledgers on one store, each with its own connection and its own kept folds (two API processes): whatever one
 * appends, the other decides on. A decision that refuses, or decides nothing, never reaches the expected-revision
 * check, so a ledger that decided on its own stale copy of an account would refuse or skip wrongly here.
 */
function sharedStoreSuite(name: string, makeStore: () => Promise<SharedStore>): void {
  describe(`two ledgers on one ${name} store`, () => {
    let shared: SharedStore;
    let a: Ledger;
    let b: Ledger;
    const clock = new ManualClock(DateTime.fromISO('2022-01-16T00:00:00Z', { zone: 'utc' }));

    beforeEach(async () => {
      shared = await makeStore();
      a = new Ledger(await shared.open(), clock);
      b = new Ledger(await shared.open(), clock);
      await a.executePlatform({ type: 'ChangeWithdrawalPolicy', data: { newAddressHoldHours: 0 } }, freshCommand(admin));
      // About stale folds, not proofs: the second-factor proof has suites of its own.
      await a.executePlatform({ type: 'ChangeSecondFactorPolicy', data: { required: false, mfaThresholdUsd: null } }, freshCommand(admin));
    });
    afterEach(async () => {
      await shared.cleanUp();
    });

    const run = (ledger: Ledger, accountId: string, command: Parameters<Ledger['executeAccount']>[1]) =>
      ledger.executeAccount(accountId, command, freshCommand(service));
    const request = (ledger: Ledger, accountId: string, withdrawalId: string, tokenId = 't1') =>
      run(ledger, accountId, {
        type: 'RequestWithdrawal',
        data: { withdrawalId, asset: 'ETH', amount: '1', address: ADDRESS, twoFactorTokenId: tokenId },
      });

    /** Opened on `opener` (which keeps the fold), then funded, given a token and an address on `funder`. */
    async function openAndFundElsewhere(opener: Ledger, funder: Ledger, accountId: string): Promise<void> {
      await run(opener, accountId, { type: 'OpenAccount', data: { accountId } });
      await run(funder, accountId, { type: 'DepositFunds', data: { depositId: 'd1', asset: 'ETH', amount: '5' } });
      await run(funder, accountId, { type: 'EnrolTwoFactor', data: { tokenId: 't1', method: 'totp' } });
      await run(funder, accountId, { type: 'WhitelistAddress', data: { asset: 'ETH', address: ADDRESS } });
    }

    it('accepts a withdrawal on one ledger whose token and address were added through the other', async () => {
      await openAndFundElsewhere(a, b, 'alice');
      await expect(request(a, 'alice', 'w1')).resolves.toMatchObject({ revision: 4n });
      expect((await b.balances('alice'))?.balances.ETH).toMatchObject({ available: '4', held: '1' });
    });

    it('approves and settles on one ledger a withdrawal requested on the other', async () => {
      await openAndFundElsewhere(a, a, 'bob');
      await request(b, 'bob', 'w1');
      await expect(run(a, 'bob', { type: 'ApproveWithdrawal', data: { withdrawalId: 'w1' } })).resolves.toMatchObject({ revision: 5n });
      await expect(run(b, 'bob', { type: 'SettleWithdrawal', data: { withdrawalId: 'w1', txHash: '0xabc' } })).resolves.toMatchObject({ revision: 6n });
      expect((await a.balances('bob'))?.balances.ETH).toMatchObject({ available: '4', held: '0', withdrawn: '1' });
    });

    it('refuses on one ledger what the other made invalid: a token revoked, an address removed', async () => {
      await openAndFundElsewhere(a, a, 'carol');
      await request(a, 'carol', 'w0');
      await run(b, 'carol', { type: 'RevokeTwoFactorToken', data: { tokenId: 't1', reason: 'lost phone' } });
      await expect(request(a, 'carol', 'w1')).rejects.toMatchObject({ code: 'TWO_FACTOR_REVOKED' });
      await run(b, 'carol', { type: 'EnrolTwoFactor', data: { tokenId: 't2', method: 'webauthn' } });
      await run(b, 'carol', { type: 'RemoveAddress', data: { asset: 'ETH', address: ADDRESS } });
      await expect(request(a, 'carol', 'w2', 't2')).rejects.toMatchObject({ code: 'ADDRESS_NOT_WHITELISTED' });
    });

    it('revokes on every account the tokens enrolled through the other ledger before recording completion', async () => {
      for (const accountId of ['r1', 'r2', 'r3']) {
        // a opens and keeps each account folded without any token; b enrols them.
        await run(a, accountId, { type: 'OpenAccount', data: { accountId } });
        await run(b, accountId, { type: 'EnrolTwoFactor', data: { tokenId: `old-${accountId}`, method: 'sms' } });
      }
      await a.executeIncident('inc', { type: 'OpenIncident', data: { incidentId: 'inc', title: 't' } }, freshCommand(admin));
      clock.advance({ minutes: 1 });
      await a.executePlatform({ type: 'RevokeAllTwoFactorTokens', data: { revocationId: 'rev', incidentId: 'inc', reason: 'bypass' } }, freshCommand(admin));

      const outcome = await new TwoFactorRevocationJob(a, quietLogger).run('rev');
      expect(outcome).toEqual({ revocationId: 'rev', accountsScanned: 3, tokensRevoked: 3 });
      const revoked: string[] = [];
      for await (const event of a.store.readAll({ filter: { eventTypes: ['TwoFactorTokenRevoked'] } })) {
        revoked.push(`${event.streamId}/${(event.data as { tokenId: string }).tokenId}`);
      }
      expect(revoked.sort()).toEqual(['account-r1/old-r1', 'account-r2/old-r2', 'account-r3/old-r3']);
    });

    it('still never overdraws: 40 withdrawals of 1 raced over both ledgers against a balance of 5', async () => {
      await openAndFundElsewhere(a, b, 'race');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => request(i % 2 === 0 ? a : b, 'race', `w${i}`)),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(5);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
      }
      expect((await a.balances('race'))?.balances.ETH).toMatchObject({ available: '0', held: '5' });
    });
  });
}

sharedStoreSuite('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-shared-'));
  const stores: EventStore[] = [];
  return {
    open: async () => {
      const store = openSqliteEventStore({ path: join(dir, 'ledger.db') });
      stores.push(store);
      return store;
    },
    cleanUp: async () => {
      await Promise.all(stores.map((store) => store.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeWithPostgres('the shared-store suite on PostgreSQL')('on PostgreSQL', () => {
  sharedStoreSuite('PostgreSQL', async () => {
    const database = new PostgresTestDatabase<EventStore>('ledger_shared');
    await database.create();
    return {
      open: async () => database.track(await openPostgresEventStore({ connectionString: database.url, poolSize: 4 })),
      cleanUp: () => database.drop(),
    };
  });
});
