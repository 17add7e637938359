import { accountStream } from '@app/domain';
import { reimbursed } from '@app/domain/testing/builders';
import { foldRows, recordAll } from '../../testing/recorded';
import { reimbursementsCsv, reimbursementsProjection, type ReimbursementRow } from './reimbursements.projection';

describe('reimbursements projection', () => {
  it('keeps one row per reimbursement, keyed by log position so listings follow the log', () => {
    const rows = foldRows(
      reimbursementsProjection,
      recordAll([
        { streamId: accountStream('alice'), event: reimbursed({ reimbursementId: 'r-1', asset: 'ETH', amount: '1.5' }) },
        // The same reimbursement id in another account is another reimbursement.
        { streamId: accountStream('bob'), event: reimbursed({ reimbursementId: 'r-1', incidentId: 'inc-2', asset: 'BTC', amount: '0.00000001' }) },
      ]),
    );
    expect(rows).toEqual([
      {
        key: '00000000000000000001',
        doc: { reimbursementId: 'r-1', accountId: 'alice', incidentId: 'inc-1', asset: 'ETH', amount: '1.5', reimbursedAt: '2022-01-18T00:00:00.000Z', position: '1' },
        index: { accountId: 'alice', incidentId: 'inc-1', asset: 'ETH', status: null },
      },
      {
        key: '00000000000000000002',
        doc: { reimbursementId: 'r-1', accountId: 'bob', incidentId: 'inc-2', asset: 'BTC', amount: '0.00000001', reimbursedAt: '2022-01-18T00:00:00.000Z', position: '2' },
        index: { accountId: 'bob', incidentId: 'inc-2', asset: 'BTC', status: null },
      },
    ]);
  });
});

describe('reimbursementsCsv', () => {
  const row: ReimbursementRow = {
    reimbursementId: 'r-1',
    accountId: 'alice',
    incidentId: 'inc-1',
    asset: 'ETH',
    amount: '4836.26',
    reimbursedAt: '2022-01-18T00:00:00.000Z',
    position: '42',
  };

  it('writes a header and one CRLF-terminated record per row, amounts exactly as stored', () => {
    expect(reimbursementsCsv([row])).toBe(
      'reimbursementId,accountId,incidentId,asset,amount,reimbursedAt,position\r\n' +
        'r-1,alice,inc-1,ETH,4836.26,2022-01-18T00:00:00.000Z,42\r\n',
    );
  });

  it('quotes fields with commas, quotes or line breaks, doubling the quotes (RFC 4180)', () => {
    const odd = { ...row, reimbursementId: 'a,b', accountId: 'say "hi"', incidentId: 'line\nbreak' };
    expect(reimbursementsCsv([odd]).split('\r\n')[1]).toBe('"a,b","say ""hi""","line\nbreak",ETH,4836.26,2022-01-18T00:00:00.000Z,42');
  });

  it('writes only the header for no rows', () => {
    expect(reimbursementsCsv([])).toBe('reimbursementId,accountId,incidentId,asset,amount,reimbursedAt,position\r\n');
  });
});
