import { accountStream, incidentStream, priceStream, type AccountEvent, type DomainEvent } from '@app/domain';
import { claimApproved, incidentOpened, priceRecorded, reimbursed, unauthorizedDetected } from '@app/domain/testing/builders';
import { foldRows, recordAll, type Placed } from '../../testing/recorded';
import { lossTotalsProjection } from './loss-totals.projection';

const on = (accountId: string, ...events: AccountEvent[]): Placed[] => events.map((event) => ({ streamId: accountStream(accountId), event }));
const price = (asset: 'ETH' | 'BTC' | 'CRO', usd: string, at = '2022-01-15T00:00Z'): Placed => ({ streamId: priceStream(asset), event: priceRecorded(asset, usd, at) as DomainEvent });
const opened: Placed = { streamId: incidentStream('inc-1'), event: incidentOpened('inc-1', '2022-01-17T00:00Z') };

describe('loss-totals projection', () => {
  it('totals each asset of an incident and values it at the price recorded before the incident opened', () => {
    const rows = foldRows(
      lossTotalsProjection,
      recordAll([
        price('ETH', '3000'),
        price('ETH', '3129'),
        price('BTC', '41929.5'),
        opened,
        // Recorded after the incident opened: not the price of its losses.
        price('ETH', '2500', '2022-01-17T06:00Z'),
        ...on('alice', unauthorizedDetected({ withdrawalId: 'w-1', asset: 'ETH', amount: '4000', outcome: 'loss' })),
        ...on('bob', unauthorizedDetected({ withdrawalId: 'w-1', asset: 'ETH', amount: '836.26', outcome: 'loss' })),
        ...on('bob', unauthorizedDetected({ withdrawalId: 'w-2', asset: 'ETH', amount: '1', outcome: 'prevented' })),
        ...on('bob', unauthorizedDetected({ withdrawalId: 'w-3', asset: 'BTC', amount: '443.93', outcome: 'loss' })),
        ...on('alice', reimbursed({ reimbursementId: 'r-1', asset: 'ETH', amount: '4000' })),
      ]),
    );
    const totals = rows.filter((row) => row.key.startsWith('total/'));
    expect(totals).toEqual([
      {
        key: 'total/inc-1/BTC',
        doc: {
          incidentId: 'inc-1',
          asset: 'BTC',
          lost: '443.93',
          prevented: '0',
          reimbursed: '0',
          paidOut: '0',
          payoutUsd: '0.00',
          outstanding: '443.93',
          affectedAccounts: 1,
          priceUsd: '41929.5',
          priceRecordedAt: '2022-01-15T00:00:00.000Z',
          priceSource: 'incident-opened',
          lostUsd: '18613762.94',
          reimbursedUsd: '0.00',
          outstandingUsd: '18613762.94',
        },
        index: { incidentId: 'inc-1', asset: 'BTC', accountId: null, status: null },
      },
      {
        key: 'total/inc-1/ETH',
        doc: {
          incidentId: 'inc-1',
          asset: 'ETH',
          lost: '4836.26',
          prevented: '1',
          reimbursed: '4000',
          paidOut: '0',
          payoutUsd: '0.00',
          outstanding: '836.26',
          // alice and bob; bob's prevented withdrawal does not count him twice.
          affectedAccounts: 2,
          priceUsd: '3129',
          priceRecordedAt: '2022-01-15T00:00:00.000Z',
          priceSource: 'incident-opened',
          lostUsd: '15132657.54',
          reimbursedUsd: '12516000.00',
          outstandingUsd: '2616657.54',
        },
        index: { incidentId: 'inc-1', asset: 'ETH', accountId: null, status: null },
      },
    ]);
  });

  it('falls back to the latest price at the first detection, and stays unpriced when there was none', () => {
    const rows = foldRows(
      lossTotalsProjection,
      recordAll([
        opened,
        price('CRO', '0.4012', '2022-01-17T01:00Z'),
        ...on('alice', unauthorizedDetected({ withdrawalId: 'w-1', asset: 'CRO', amount: '1000', outcome: 'loss' })),
        // A later price does not move a total already priced.
        price('CRO', '0.1', '2022-01-17T02:00Z'),
        ...on('bob', unauthorizedDetected({ withdrawalId: 'w-1', asset: 'CRO', amount: '10', outcome: 'loss' })),
        ...on('bob', unauthorizedDetected({ withdrawalId: 'w-2', asset: 'BTC', amount: '1', outcome: 'loss' })),
        price('BTC', '40000', '2022-01-17T03:00Z'),
      ]),
    );
    expect(rows.find((row) => row.key === 'total/inc-1/CRO')!.doc).toMatchObject({
      lost: '1010',
      priceUsd: '0.4012',
      priceSource: 'first-detection',
      lostUsd: '405.21',
    });
    expect(rows.find((row) => row.key === 'total/inc-1/BTC')!.doc).toMatchObject({
      lost: '1',
      priceUsd: null,
      priceSource: null,
      lostUsd: null,
      outstandingUsd: null,
    });
  });

  it('keeps the incident with the prices at its opening, and prices as its own rows', () => {
    const rows = foldRows(lossTotalsProjection, recordAll([price('ETH', '3129'), opened]));
    expect(rows).toEqual([
      {
        key: 'incident/inc-1',
        doc: {
          incidentId: 'inc-1',
          title: '2FA bypass',
          openedAt: '2022-01-17T00:00:00.000Z',
          pricesAtOpening: { ETH: { asset: 'ETH', usd: '3129', recordedAt: '2022-01-15T00:00:00.000Z' } },
        },
        index: { incidentId: 'inc-1', accountId: null, asset: null, status: null },
      },
      {
        key: 'price/ETH',
        doc: { asset: 'ETH', usd: '3129', recordedAt: '2022-01-15T00:00:00.000Z' },
        index: { incidentId: null, accountId: null, asset: null, status: null },
      },
    ]);
  });

  it('totals protection payouts beside reimbursements: outstanding is what neither compensated', () => {
    const rows = foldRows(
      lossTotalsProjection,
      recordAll([
        price('ETH', '3000'),
        opened,
        ...on('alice', unauthorizedDetected({ withdrawalId: 'w-1', asset: 'ETH', amount: '10', outcome: 'loss' })),
        ...on('alice', reimbursed({ reimbursementId: 'r-1', asset: 'ETH', amount: '2.5' })),
        ...on('alice', claimApproved({ incidentId: 'inc-1', claimedUsd: '22500', payoutUsd: '22500', compensatedAmount: '7.5' })),
      ]),
    );
    expect(rows.find((row) => row.key === 'total/inc-1/ETH')!.doc).toMatchObject({
      lost: '10',
      reimbursed: '2.5',
      paidOut: '7.5',
      payoutUsd: '22500.00',
      outstanding: '0',
      outstandingUsd: '0.00',
    });
  });
});
