import { accountStream, event, type DomainEvent } from '@app/domain';
import { foldRows, recordAll, type Placed } from '../../testing/recorded';
import { protectionClaimsProjection } from './protection-claims.projection';

const A = accountStream('alice');
const filed = (claimId: string): Placed => ({
  streamId: A,
  event: event('ProtectionClaimFiled', {
    claimId,
    withdrawalId: 'w-1',
    policeReportReference: 'PR-77',
    policeReportCopyProvided: true,
    questionnaireCompleted: true,
    deviceJailbroken: false,
    filedAt: '2022-02-02T00:00:00.000Z',
  }) as DomainEvent,
});

describe('protection-claims projection', () => {
  it('follows a claim from filed to approved, with its payout and cap', () => {
    const rows = foldRows(
      protectionClaimsProjection,
      recordAll([
        filed('c-1'),
        {
          streamId: A,
          event: event('ProtectionClaimApproved', {
            claimId: 'c-1',
            withdrawalId: 'w-1',
            claimedUsd: '300000',
            payoutUsd: '250000',
            capped: true,
            decidedAt: '2022-02-10T00:00:00.000Z',
          }),
        },
      ]),
    );
    expect(rows).toEqual([
      {
        key: 'alice/c-1',
        doc: {
          claimId: 'c-1',
          accountId: 'alice',
          withdrawalId: 'w-1',
          status: 'approved',
          filedAt: '2022-02-02T00:00:00.000Z',
          policeReportReference: 'PR-77',
          policeReportCopyProvided: true,
          questionnaireCompleted: true,
          deviceJailbroken: false,
          decidedAt: '2022-02-10T00:00:00.000Z',
          reasons: [],
          claimedUsd: '300000',
          payoutUsd: '250000',
          capped: true,
        },
        index: { accountId: 'alice', status: 'approved', incidentId: null, asset: null },
      },
    ]);
  });

  it('keeps every reason of a denial, and a filed claim as filed', () => {
    const rows = foldRows(
      protectionClaimsProjection,
      recordAll([
        filed('c-1'),
        filed('c-2'),
        {
          streamId: A,
          event: event('ProtectionClaimDenied', {
            claimId: 'c-2',
            withdrawalId: 'w-1',
            reasons: ['NO_POLICE_REPORT_COPY', 'DEVICE_JAILBROKEN'],
            decidedAt: '2022-02-10T00:00:00.000Z',
          }),
        },
      ]),
    );
    expect(rows.map((row) => [row.key, row.index.status, (row.doc as { reasons: string[] }).reasons])).toEqual([
      ['alice/c-1', 'filed', []],
      ['alice/c-2', 'denied', ['NO_POLICE_REPORT_COPY', 'DEVICE_JAILBROKEN']],
    ]);
  });
});
