import { accountStream, type AccountEvent } from '@app/domain';
import { cancelled, claimApproved, reimbursed, unauthorizedDetected } from '@app/domain/testing/builders';
import { foldRows, recordAll, type Placed } from '../../testing/recorded';
import { incidentLedgerProjection } from './incident-ledger.projection';

const on = (accountId: string, ...events: AccountEvent[]): Placed[] => events.map((event) => ({ streamId: accountStream(accountId), event }));
const DETECTED = '2022-01-17T12:00:00.000Z';

describe('incident-ledger projection', () => {
  it('lists an account whose unauthorized withdrawal was stopped as prevented, with nothing lost', () => {
    const rows = foldRows(
      incidentLedgerProjection,
      recordAll(on('alice', unauthorizedDetected({ withdrawalId: 'w-1', amount: '2', outcome: 'prevented' }), cancelled('w-1'))),
    );
    expect(rows.find((row) => row.key === 'inc-1/alice')).toEqual({
      key: 'inc-1/alice',
      doc: {
        incidentId: 'inc-1',
        accountId: 'alice',
        status: 'prevented',
        withdrawals: [{ withdrawalId: 'w-1', asset: 'ETH', amount: '2', outcome: 'prevented', detectedAt: DETECTED }],
        assets: { ETH: { lost: '0', prevented: '2', reimbursed: '0', paidOut: '0', payoutUsd: '0.00', outstanding: '0' } },
      },
      index: { incidentId: 'inc-1', accountId: 'alice', asset: null, status: 'prevented' },
    });
  });

  it('is outstanding while any loss is not fully reimbursed, and reimbursed once all of it is', () => {
    const history = on(
      'bob',
      unauthorizedDetected({ withdrawalId: 'w-1', asset: 'ETH', amount: '4836.26', outcome: 'loss' }),
      unauthorizedDetected({ withdrawalId: 'w-2', asset: 'BTC', amount: '1.5', outcome: 'loss' }),
      unauthorizedDetected({ withdrawalId: 'w-3', asset: 'BTC', amount: '0.1', outcome: 'prevented' }),
      cancelled('w-3'),
      reimbursed({ reimbursementId: 'r-1', asset: 'ETH', amount: '4836.26' }),
      reimbursed({ reimbursementId: 'r-2', asset: 'BTC', amount: '1' }),
    );
    const partly = foldRows(incidentLedgerProjection, recordAll(history));
    expect(partly.find((row) => row.key === 'inc-1/bob')!.doc).toMatchObject({
      status: 'outstanding',
      assets: {
        BTC: { lost: '1.5', prevented: '0.1', reimbursed: '1', paidOut: '0', payoutUsd: '0.00', outstanding: '0.5' },
        ETH: { lost: '4836.26', prevented: '0', reimbursed: '4836.26', paidOut: '0', payoutUsd: '0.00', outstanding: '0' },
      },
    });
    expect(Object.keys((partly.find((row) => row.key === 'inc-1/bob')!.doc as { assets: object }).assets)).toEqual(['BTC', 'ETH']);
    // Per-asset rows carry the status of their asset alone, so a listing can filter on it.
    expect(partly.filter((row) => row.key.startsWith('inc-1/bob/')).map((row) => [row.key, row.index.status])).toEqual([
      ['inc-1/bob/BTC', 'outstanding'],
      ['inc-1/bob/ETH', 'reimbursed'],
    ]);

    const settledInFull = foldRows(
      incidentLedgerProjection,
      recordAll([...history, ...on('bob', reimbursed({ reimbursementId: 'r-3', asset: 'BTC', amount: '0.5' }))]),
    );
    expect(settledInFull.find((row) => row.key === 'inc-1/bob')).toMatchObject({
      doc: { status: 'reimbursed', assets: { BTC: { outstanding: '0' }, ETH: { outstanding: '0' } } },
      index: { status: 'reimbursed' },
    });
  });

  it('keeps the withdrawals of one asset on its asset row', () => {
    const rows = foldRows(
      incidentLedgerProjection,
      recordAll(
        on(
          'carol',
          unauthorizedDetected({ withdrawalId: 'w-1', asset: 'ETH', amount: '1', outcome: 'loss' }),
          unauthorizedDetected({ withdrawalId: 'w-2', asset: 'BTC', amount: '2', outcome: 'loss' }),
        ),
      ),
    );
    expect(rows.find((row) => row.key === 'inc-1/carol/BTC')).toEqual({
      key: 'inc-1/carol/BTC',
      doc: {
        incidentId: 'inc-1',
        accountId: 'carol',
        asset: 'BTC',
        status: 'outstanding',
        lost: '2',
        prevented: '0',
        reimbursed: '0',
        paidOut: '0',
        payoutUsd: '0.00',
        outstanding: '2',
        withdrawals: [{ withdrawalId: 'w-2', asset: 'BTC', amount: '2', outcome: 'loss', detectedAt: DETECTED }],
      },
      index: { incidentId: 'inc-1', accountId: 'carol', asset: 'BTC', status: 'outstanding' },
    });
  });

  it('refuses a reimbursement beyond the loss (rule 7 broken in the log)', () => {
    const events = on(
      'dave',
      unauthorizedDetected({ withdrawalId: 'w-1', amount: '1', outcome: 'loss' }),
      reimbursed({ amount: '1.000000000000000001' }),
    );
    expect(() => foldRows(incidentLedgerProjection, recordAll(events))).toThrow(/beyond the loss/);
  });

  it('shows protection payouts beside reimbursements, and counts both against what is outstanding', () => {
    const history = on(
      'dave',
      unauthorizedDetected({ withdrawalId: 'w-1', asset: 'ETH', amount: '10', outcome: 'loss' }),
      reimbursed({ reimbursementId: 'r-1', asset: 'ETH', amount: '4' }),
      claimApproved({ incidentId: 'inc-1', claimedUsd: '18774', payoutUsd: '18774', compensatedAmount: '6' }),
    );
    const rows = foldRows(incidentLedgerProjection, recordAll(history));
    expect(rows.find((row) => row.key === 'inc-1/dave')!.doc).toMatchObject({
      status: 'reimbursed',
      assets: { ETH: { lost: '10', reimbursed: '4', paidOut: '6', payoutUsd: '18774.00', outstanding: '0' } },
    });
    expect(rows.find((row) => row.key === 'inc-1/dave/ETH')!.doc).toMatchObject({ paidOut: '6', outstanding: '0', status: 'reimbursed' });
  });
});
