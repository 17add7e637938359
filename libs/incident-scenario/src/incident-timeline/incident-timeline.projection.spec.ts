import { accountStream, incidentStream, PLATFORM_STREAM, type AccountEvent, type DomainEvent } from '@app/domain';
import { incidentOpened, requested, settled, unauthorizedDetected, withdrawalsHalted } from '@app/domain/testing/builders';
import { docsUnder, foldRows, recordAll, type Placed } from '@app/projections/testing/recorded';
import { incidentTimelineProjection } from './incident-timeline.projection';

const on = (accountId: string, ...events: AccountEvent[]): Placed[] => events.map((event) => ({ streamId: accountStream(accountId), event }));
const opened: Placed = { streamId: incidentStream('inc-1'), event: incidentOpened('inc-1', '2022-01-17T00:00Z') };
const halted: Placed = { streamId: PLATFORM_STREAM, event: withdrawalsHalted('2022-01-17T04:44Z') as DomainEvent };

describe('incident-timeline projection', () => {
  it('widens the attack window to the first and last request of the unauthorized withdrawals, settled or stopped', () => {
    const rows = foldRows(
      incidentTimelineProjection,
      recordAll([
        opened,
        ...on('alice', requested({ withdrawalId: 'w-1', amount: '1' }, '2022-01-17T01:00Z'), settled('w-1', '2022-01-17T01:05Z')),
        ...on('bob', requested({ withdrawalId: 'w-2', amount: '1' }, '2022-01-17T03:00Z')),
        halted,
        ...on('alice', unauthorizedDetected({ withdrawalId: 'w-1', amount: '1', outcome: 'loss' })),
        ...on('bob', unauthorizedDetected({ withdrawalId: 'w-2', amount: '1', outcome: 'prevented' })),
      ]),
    );
    expect(docsUnder(rows, 'attack/')).toEqual([{ incidentId: 'inc-1', firstRequestedAt: '2022-01-17T01:00:00.000Z', lastRequestedAt: '2022-01-17T03:00:00.000Z', withdrawals: 2 }]);
    expect(docsUnder(rows, 'unauthorized/')).toEqual([
      { incidentId: 'inc-1', accountId: 'alice', withdrawalId: 'w-1', requestedAt: '2022-01-17T01:00:00.000Z', settledAt: '2022-01-17T01:05:00.000Z' },
      { incidentId: 'inc-1', accountId: 'bob', withdrawalId: 'w-2', requestedAt: '2022-01-17T03:00:00.000Z', settledAt: null },
    ]);
    expect(docsUnder(rows, 'entry/').map((entry) => (entry as { type: string }).type)).toEqual(['IncidentOpened', 'WithdrawalsHalted']);
  });

  it('refuses an unauthorized withdrawal that was never requested: the log would be inconsistent', () => {
    expect(() => foldRows(incidentTimelineProjection, recordAll([opened, ...on('alice', unauthorizedDetected({ withdrawalId: 'w-9', amount: '1', outcome: 'loss' }))]))).toThrow(
      'unauthorized w-9 of account-alice was never requested',
    );
  });
});
