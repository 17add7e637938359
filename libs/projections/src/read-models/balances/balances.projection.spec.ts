import { accountDecider, accountStream, availableMinor, formatAmount, type AccountEvent, type AssetCode } from '@app/domain';
import {
  approved,
  cancelled,
  deposited,
  enrolled,
  opened,
  rejected,
  reimbursed,
  requested,
  settled,
  unauthorizedDetected,
} from '@app/domain/testing/builders';
import { ledgerHistory } from '../../testing/ledger-history';
import { docsUnder, foldRows, recordAll, type Placed } from '../../testing/recorded';
import { balancesProjection } from './balances.projection';

const A = accountStream('alice');
const B = accountStream('bob');
const on = (streamId: string, ...events: AccountEvent[]): Placed[] => events.map((event) => ({ streamId, event }));

describe('balances projection', () => {
  it('keeps one row per account and one per (account, asset), with every amount as a canonical string', () => {
    const rows = foldRows(
      balancesProjection,
      recordAll([
        ...on(A, opened('alice'), deposited('ETH', '10'), deposited('BTC', '0.5'), deposited('ETH', '0.25')),
        ...on(B, opened('bob')),
      ]),
    );
    expect(rows).toEqual([
      { key: 'account/alice', doc: { accountId: 'alice', openedAt: '2022-01-01T00:00:00.000Z' }, index: expect.objectContaining({ accountId: 'alice', asset: null }) },
      { key: 'account/bob', doc: { accountId: 'bob', openedAt: '2022-01-01T00:00:00.000Z' }, index: expect.objectContaining({ accountId: 'bob' }) },
      {
        key: 'balance/alice/BTC',
        doc: { accountId: 'alice', asset: 'BTC', deposited: '0.5', reimbursed: '0', held: '0', withdrawn: '0', available: '0.5' },
        index: { accountId: 'alice', asset: 'BTC', incidentId: null, status: null },
      },
      {
        key: 'balance/alice/ETH',
        doc: { accountId: 'alice', asset: 'ETH', deposited: '10.25', reimbursed: '0', held: '0', withdrawn: '0', available: '10.25' },
        index: { accountId: 'alice', asset: 'ETH', incidentId: null, status: null },
      },
    ]);
  });

  it('holds a requested withdrawal, moves a settled one out and releases a rejected or cancelled one', () => {
    const rows = foldRows(
      balancesProjection,
      recordAll(
        on(
          A,
          opened('alice'),
          enrolled('tok-1'),
          deposited('ETH', '10'),
          requested({ withdrawalId: 'w-1', amount: '1' }),
          requested({ withdrawalId: 'w-2', amount: '2' }),
          requested({ withdrawalId: 'w-3', amount: '3' }),
          requested({ withdrawalId: 'w-4', amount: '0.5' }),
          approved('w-1'),
          settled('w-1'),
          rejected('w-2'),
          cancelled('w-3'),
        ),
      ),
    );
    expect(docsUnder(rows, 'balance/')).toEqual([
      { accountId: 'alice', asset: 'ETH', deposited: '10', reimbursed: '0', held: '0.5', withdrawn: '1', available: '8.5' },
    ]);
    // Only the withdrawal still holding funds keeps a (private, unindexed) row.
    expect(rows.filter((row) => row.key.startsWith('pending/'))).toEqual([
      {
        key: 'pending/alice/w-4',
        doc: { accountId: 'alice', withdrawalId: 'w-4', asset: 'ETH', amount: '0.5' },
        index: { accountId: null, incidentId: null, asset: null, status: null },
      },
    ]);
  });

  it('credits a reimbursement after an unauthorized settled withdrawal', () => {
    const rows = foldRows(
      balancesProjection,
      recordAll(
        on(
          A,
          opened('alice'),
          deposited('BTC', '2'),
          requested({ withdrawalId: 'w-1', asset: 'BTC', amount: '1.5' }),
          approved('w-1'),
          settled('w-1'),
          unauthorizedDetected({ withdrawalId: 'w-1', asset: 'BTC', amount: '1.5', outcome: 'loss' }),
          reimbursed({ asset: 'BTC', amount: '1' }),
        ),
      ),
    );
    expect(docsUnder(rows, 'balance/')).toEqual([
      { accountId: 'alice', asset: 'BTC', deposited: '2', reimbursed: '1', held: '0', withdrawn: '1.5', available: '1.5' },
    ]);
  });

  it('refuses to fold a settlement of a withdrawal that holds nothing (a broken log, not an input)', () => {
    expect(() => foldRows(balancesProjection, recordAll(on(A, opened('alice'), settled('w-9'))))).toThrow(/holds no funds/);
  });

  it('agrees with the account decider on every account of a long generated history', () => {
    const history = ledgerHistory({ accounts: 40, operations: 3_000, seed: 11 });
    const rows = foldRows(balancesProjection, recordAll(history));
    const expected: unknown[] = [];
    const byAccount = new Map<string, AccountEvent[]>();
    for (const { streamId, event } of history) {
      if (streamId.startsWith('account-')) byAccount.set(streamId, [...(byAccount.get(streamId) ?? []), event as AccountEvent]);
    }
    for (const events of byAccount.values()) {
      const state = events.reduce(accountDecider.evolve, accountDecider.initialState());
      for (const [asset, balance] of state.balances) {
        expected.push({
          accountId: state.accountId,
          asset,
          deposited: formatAmount(asset, balance.depositedMinor),
          reimbursed: formatAmount(asset, balance.reimbursedMinor),
          held: formatAmount(asset, balance.heldMinor),
          withdrawn: formatAmount(asset, balance.withdrawnMinor),
          available: formatAmount(asset, availableMinor(balance)),
        });
      }
    }
    const byKey = (doc: unknown): string => {
      const { accountId, asset } = doc as { accountId: string; asset: AssetCode };
      return `${accountId}/${asset}`;
    };
    const sort = (docs: unknown[]): unknown[] => [...docs].sort((a, b) => (byKey(a) < byKey(b) ? -1 : 1));
    expect(expected.length).toBeGreaterThan(60);
    expect(sort(docsUnder(rows, 'balance/'))).toEqual(sort(expected));
  });
});
