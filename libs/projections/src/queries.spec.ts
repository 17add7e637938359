import { accountStream, event, incidentStream, priceStream, type AccountEvent, type DomainEvent } from '@app/domain';
import {
  approved,
  cancelled,
  deposited,
  incidentOpened,
  opened,
  priceRecorded,
  reimbursed,
  requested,
  settled,
  unauthorizedDetected,
} from '@app/domain/testing/builders';
import { InMemoryReadStore } from './in-memory-read-store';
import {
  accountBalances,
  DEFAULT_PAGE_LIMIT,
  encodeCursor,
  incidentLedger,
  lossTotals,
  MAX_PAGE_LIMIT,
  protectionClaims,
  QueryError,
  reimbursements,
  type Page,
} from './queries';
import { ALL_PROJECTIONS, reimbursementsCsv, reimbursementsProjection } from './read-models';
import { foldRows, recordAll, type Placed } from './testing/recorded';

const on = (accountId: string, ...events: AccountEvent[]): Placed[] => events.map((e) => ({ streamId: accountStream(accountId), event: e }));

/** An incident: five accounts lose ETH (one also BTC), one has a withdrawal prevented; some are reimbursed. */
function history(): Placed[] {
  const losing = ['a1', 'a2', 'a3', 'a4', 'a5'].flatMap((id, i) =>
    on(
      id,
      opened(id),
      deposited('ETH', '100'),
      requested({ withdrawalId: 'w-1', amount: String(i + 1) }),
      approved('w-1'),
      settled('w-1'),
      unauthorizedDetected({ withdrawalId: 'w-1', amount: String(i + 1), outcome: 'loss' }),
    ),
  );
  return [
    { streamId: priceStream('ETH'), event: priceRecorded('ETH', '3129', '2022-01-15T00:00Z') as DomainEvent },
    { streamId: incidentStream('inc-1'), event: incidentOpened('inc-1', '2022-01-17T00:00Z') as DomainEvent },
    ...losing,
    ...on(
      'a2',
      deposited('BTC', '1'),
      requested({ withdrawalId: 'w-2', asset: 'BTC', amount: '0.5' }),
      approved('w-2'),
      settled('w-2'),
      unauthorizedDetected({ withdrawalId: 'w-2', asset: 'BTC', amount: '0.5', outcome: 'loss' }),
    ),
    ...on('b1', opened('b1'), deposited('USDC', '10'), requested({ withdrawalId: 'w-1', asset: 'USDC', amount: '5' })),
    ...on('b1', unauthorizedDetected({ withdrawalId: 'w-1', asset: 'USDC', amount: '5', outcome: 'prevented' }), cancelled('w-1')),
    ...on('a1', reimbursed({ reimbursementId: 'r-1', amount: '1' })),
    ...on('a3', reimbursed({ reimbursementId: 'r-1', amount: '1' })),
    ...on('a3', reimbursed({ reimbursementId: 'r-2', amount: '2' })),
    ...on('empty', opened('empty')),
    ...on('a1', event('ProtectionClaimFiled', {
      claimId: 'c-1', withdrawalId: 'w-1', policeReportReference: null, policeReportCopyProvided: false,
      questionnaireCompleted: true, deviceJailbroken: false, filedAt: '2022-02-02T00:00:00.000Z',
    })),
  ];
}

async function readStoreOf(placed: readonly Placed[], projections = ALL_PROJECTIONS): Promise<InMemoryReadStore> {
  const rs = new InMemoryReadStore();
  const events = recordAll(placed);
  for (const projection of projections) {
    const rows = foldRows(projection, events);
    await rs.commit(projection.name, projection.version, undefined, BigInt(events.length), new Map(rows.map((row) => [row.key, row])));
  }
  return rs;
}

async function allPages<Item>(fetch: (cursor: string | undefined) => Promise<Page<Item>>): Promise<Item[][]> {
  const pages: Item[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return pages;
}

describe('queries over a read store', () => {
  let rs: InMemoryReadStore;
  beforeAll(async () => {
    rs = await readStoreOf(history());
  });

  it('gives an account its balances by asset, {} for an account without funds, and null for no account', async () => {
    expect(await accountBalances(rs, 'a2')).toEqual({
      accountId: 'a2',
      balances: {
        BTC: { available: '0.5', held: '0', withdrawn: '0.5', deposited: '1', reimbursed: '0' },
        ETH: { available: '98', held: '0', withdrawn: '2', deposited: '100', reimbursed: '0' },
      },
    });
    expect(Object.keys((await accountBalances(rs, 'a2'))!.balances)).toEqual(['BTC', 'ETH']);
    expect(await accountBalances(rs, 'empty')).toEqual({ accountId: 'empty', balances: {} });
    expect(await accountBalances(rs, 'nobody')).toBeNull();
  });

  it('pages the incident ledger by account with an opaque cursor, ending with nextCursor null', async () => {
    const pages = await allPages((cursor) => incidentLedger(rs, 'inc-1', { limit: 2, cursor }));
    expect(pages.map((page) => page.map((entry) => entry.accountId))).toEqual([['a1', 'a2'], ['a3', 'a4'], ['a5', 'b1']]);
    const first = await incidentLedger(rs, 'inc-1', { limit: 2 });
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(pages[0]![1]).toEqual({
      incidentId: 'inc-1',
      accountId: 'a2',
      status: 'outstanding',
      withdrawals: [
        { withdrawalId: 'w-1', asset: 'ETH', amount: '2', outcome: 'loss', detectedAt: '2022-01-17T12:00:00.000Z' },
        { withdrawalId: 'w-2', asset: 'BTC', amount: '0.5', outcome: 'loss', detectedAt: '2022-01-17T12:00:00.000Z' },
      ],
      assets: {
        BTC: { lost: '0.5', prevented: '0', reimbursed: '0', paidOut: '0', payoutUsd: '0.00', outstanding: '0.5' },
        ETH: { lost: '2', prevented: '0', reimbursed: '0', paidOut: '0', payoutUsd: '0.00', outstanding: '2' },
      },
    });
  });

  it('filters the incident ledger by status, account and asset (an asset shows only that asset)', async () => {
    const ids = (page: Page<{ accountId: string }>): string[] => page.items.map((item) => item.accountId);
    expect(ids(await incidentLedger(rs, 'inc-1', { status: 'reimbursed' }))).toEqual(['a1', 'a3']);
    expect(ids(await incidentLedger(rs, 'inc-1', { status: 'prevented' }))).toEqual(['b1']);
    expect(ids(await incidentLedger(rs, 'inc-1', { accountId: 'a4' }))).toEqual(['a4']);
    const btc = await incidentLedger(rs, 'inc-1', { asset: 'BTC' });
    expect(btc.items).toEqual([
      {
        incidentId: 'inc-1',
        accountId: 'a2',
        status: 'outstanding',
        withdrawals: [{ withdrawalId: 'w-2', asset: 'BTC', amount: '0.5', outcome: 'loss', detectedAt: '2022-01-17T12:00:00.000Z' }],
        assets: { BTC: { lost: '0.5', prevented: '0', reimbursed: '0', paidOut: '0', payoutUsd: '0.00', outstanding: '0.5' } },
      },
    ]);
    expect(ids(await incidentLedger(rs, 'inc-1', { asset: 'ETH', status: 'outstanding' }))).toEqual(['a2', 'a4', 'a5']);
    expect(ids(await incidentLedger(rs, 'inc-9'))).toEqual([]);
  });

  it('totals an incident per asset with USD sums of the lines shown, and null for an unknown incident', async () => {
    const totals = await lossTotals(rs, 'inc-1');
    expect(totals).toMatchObject({
      incidentId: 'inc-1',
      title: '2FA bypass',
      openedAt: '2022-01-17T00:00:00.000Z',
      // ETH is priced (3129 at opening); BTC and USDC have no recorded price.
      totalLostUsd: '46935.00',
      totalReimbursedUsd: '12516.00',
      totalOutstandingUsd: '34419.00',
      unpricedAssets: ['BTC', 'USDC'],
    });
    expect(totals!.assets.map((total) => [total.asset, total.lost, total.prevented, total.reimbursed, total.affectedAccounts, total.lostUsd])).toEqual([
      ['BTC', '0.5', '0', '0', 1, null],
      ['ETH', '15', '0', '4', 5, '46935.00'],
      ['USDC', '0', '5', '0', 1, null],
    ]);
    expect(await lossTotals(rs, 'inc-9')).toBeNull();
  });

  it('lists reimbursements in log order, filtered, and exports a page as CSV', async () => {
    const all = await reimbursements(rs);
    expect(all.items.map((r) => `${r.accountId}/${r.reimbursementId}/${r.amount}`)).toEqual(['a1/r-1/1', 'a3/r-1/1', 'a3/r-2/2']);
    expect(all.nextCursor).toBeNull();
    expect((await reimbursements(rs, { accountId: 'a3', incidentId: 'inc-1', asset: 'ETH' })).items).toHaveLength(2);
    expect((await reimbursements(rs, { asset: 'BTC' })).items).toEqual([]);
    const pages = await allPages((cursor) => reimbursements(rs, { limit: 1, cursor }));
    expect(pages.flat()).toEqual(all.items);
    expect(reimbursementsCsv(all.items).split('\r\n')).toHaveLength(5);
  });

  it('lists protection claims by status', async () => {
    expect((await protectionClaims(rs, { status: 'filed' })).items.map((c) => c.claimId)).toEqual(['c-1']);
    expect((await protectionClaims(rs, { status: 'approved' })).items).toEqual([]);
    expect((await protectionClaims(rs, { accountId: 'a1' })).items).toHaveLength(1);
  });

  it('refuses a limit out of range, a foreign or forged cursor and an unknown status with a typed error', async () => {
    const refusal = (promise: Promise<unknown>) => expect(promise).rejects.toBeInstanceOf(QueryError);
    for (const limit of [0, -1, 1.5, MAX_PAGE_LIMIT + 1, Number.NaN]) {
      await expect(reimbursements(rs, { limit })).rejects.toMatchObject({ code: 'PAGE_LIMIT_OUT_OF_RANGE' });
    }
    await expect(reimbursements(rs, { limit: MAX_PAGE_LIMIT })).resolves.toBeDefined();
    for (const cursor of ['', 'not base64!', 'bm9wZQ', encodeCursor('incident-ledger', 'inc-1/a1'), 'x'.repeat(2_000)]) {
      await expect(reimbursements(rs, { cursor })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    }
    await expect(incidentLedger(rs, 'inc-1', { status: 'lost' })).rejects.toMatchObject({ code: 'INVALID_FILTER' });
    await refusal(protectionClaims(rs, { status: 'pending' }));
  });

  it('pages by DEFAULT_PAGE_LIMIT when no limit is given', async () => {
    const many = await readStoreOf(
      Array.from({ length: DEFAULT_PAGE_LIMIT + 5 }, (_, i) => on(`x${String(i).padStart(3, '0')}`, reimbursed({ amount: '1' }))).flat(),
      [reimbursementsProjection],
    );
    const first = await reimbursements(many);
    expect(first.items).toHaveLength(DEFAULT_PAGE_LIMIT);
    expect((await reimbursements(many, { cursor: first.nextCursor! })).items).toHaveLength(5);
  });
});
