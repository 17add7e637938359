import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accountStream,
  formatAmount,
  parsePrice,
  toMinor,
  valueUsd,
  type AssetCode,
  type IncidentLoss,
} from '@app/domain';
import { openSqliteEventStore, type EventStore } from '@app/event-store';
import { DateTime } from 'luxon';
// libs/projections has no path alias yet (tsconfig and jest.config are not ours to change here).
import {
  accountBalances,
  ALL_PROJECTIONS,
  incidentLedger,
  lossTotals,
  openSqliteReadStore,
  ProjectionRunner,
  reconcile,
  reimbursements,
  type ReadStore,
} from '@app/projections';
import { ManualClock } from './clock';
import { freshCommand, type Actor } from './command-metadata';
import { Ledger, type AccountRequest } from './ledger';

const service: Actor = { id: 'agreement', role: 'service' };
const admin: Actor = { id: 'agreement-admin', role: 'admin' };
const INCIDENT = 'inc-2022-01';
const ACCOUNTS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
const ASSETS: readonly AssetCode[] = ['ETH', 'BTC', 'USDC', 'CRO'];
const address = (asset: AssetCode): string => `0x${asset}00000000000000000000000000000000000001`;

/**
 * The read models against the ledger's own folds: every account's balances as `Ledger.balances()` has them, and
 * every incident loss as the account states hold it, after a history made by the real command handlers.
 */
describe('projections agree with the ledger', () => {
  let dir: string;
  let store: EventStore;
  let ledger: Ledger;
  let readStores: ReadStore[];
  const clock = new ManualClock(DateTime.fromISO('2022-01-10T00:00:00Z', { zone: 'utc' }));

  const account = async (accountId: string, command: AccountRequest): Promise<void> => {
    clock.advance({ seconds: 1 });
    await ledger.executeAccount(accountId, command, freshCommand(service));
  };
  const withdraw = (accountId: string, withdrawalId: string, asset: AssetCode, amount: string) =>
    account(accountId, { type: 'RequestWithdrawal', data: { withdrawalId, asset, amount, address: address(asset), twoFactorTokenId: 'tok-1' } });
  const approve = (accountId: string, withdrawalId: string) => account(accountId, { type: 'ApproveWithdrawal', data: { withdrawalId } });
  const settle = (accountId: string, withdrawalId: string) => account(accountId, { type: 'SettleWithdrawal', data: { withdrawalId, txHash: `tx-${withdrawalId}` } });
  const unauthorized = (accountId: string, withdrawalId: string) =>
    account(accountId, { type: 'ReportUnauthorizedWithdrawal', data: { withdrawalId, incidentId: INCIDENT } });
  const reimburse = (accountId: string, reimbursementId: string, asset: AssetCode, amount: string) =>
    account(accountId, { type: 'Reimburse', data: { reimbursementId, incidentId: INCIDENT, asset, amount } });
  const price = (asset: AssetCode, usd: string) => ledger.executePrice({ type: 'RecordPrice', data: { asset, usd } }, freshCommand(admin));
  const openReadStore = (): ReadStore => {
    const rs = openSqliteReadStore({ path: join(dir, 'read.db') });
    readStores.push(rs);
    return rs;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agreement-'));
    store = openSqliteEventStore({ path: join(dir, 'ledger.db') });
    ledger = new Ledger(store, clock);
    readStores = [];
  });
  afterAll(async () => {
    await Promise.all(readStores.map((rs) => rs.close()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Before the incident: funded accounts and ordinary withdrawals that settle, are rejected or are cancelled. */
  async function ordinaryDays(): Promise<void> {
    await ledger.executePlatform({ type: 'ChangeWithdrawalPolicy', data: { newAddressHoldHours: 0 } }, freshCommand(admin));
    await ledger.executePlatform({ type: 'ChangeSecondFactorPolicy', data: { required: false, mfaThresholdUsd: null } }, freshCommand(admin));
    await price('ETH', '3129');
    await price('BTC', '41929.5');
    await price('USDC', '1');
    for (const [i, accountId] of ACCOUNTS.entries()) {
      await account(accountId, { type: 'OpenAccount', data: { accountId } });
      await account(accountId, { type: 'EnrolTwoFactor', data: { tokenId: 'tok-1', method: 'totp' } });
      for (const asset of ASSETS) {
        await account(accountId, { type: 'DepositFunds', data: { depositId: `dep-${asset}`, asset, amount: `${(i + 1) * 10}.5` } });
        await account(accountId, { type: 'WhitelistAddress', data: { asset, address: address(asset) } });
      }
    }
    await account('alice', { type: 'DepositFunds', data: { depositId: 'dep-2', asset: 'ETH', amount: '0.000000000000000001' } });
    await withdraw('alice', 'w-ok', 'ETH', '1.25');
    await approve('alice', 'w-ok');
    await settle('alice', 'w-ok');
    await withdraw('bob', 'w-rej', 'BTC', '2');
    await account('bob', { type: 'RejectWithdrawal', data: { withdrawalId: 'w-rej', reason: 'compliance' } });
    await withdraw('carol', 'w-can', 'USDC', '3.333333');
    await account('carol', { type: 'CancelWithdrawal', data: { withdrawalId: 'w-can', reason: 'customer' } });
    await withdraw('erin', 'w-pending', 'CRO', '7');
  }

  /** The incident: unauthorized withdrawals, some settled (lost), some still pending (prevented), a halt. */
  async function incident(): Promise<void> {
    await withdraw('alice', 'w-x1', 'ETH', '4.836');
    await approve('alice', 'w-x1');
    await settle('alice', 'w-x1');
    await withdraw('alice', 'w-x2', 'BTC', '0.4439');
    await approve('alice', 'w-x2');
    await settle('alice', 'w-x2');
    await withdraw('bob', 'w-x1', 'ETH', '12');
    await approve('bob', 'w-x1');
    await settle('bob', 'w-x1');
    await withdraw('carol', 'w-x1', 'ETH', '5');
    await approve('carol', 'w-x1');
    await withdraw('dave', 'w-x1', 'USDC', '40.000001');
    await approve('dave', 'w-x1');
    await settle('dave', 'w-x1');
    await withdraw('dave', 'w-x2', 'ETH', '1');

    clock.advance({ hours: 1 });
    await ledger.executeIncident(INCIDENT, { type: 'OpenIncident', data: { incidentId: INCIDENT, title: '2FA bypass' } }, freshCommand(admin));
    await ledger.executePlatform({ type: 'HaltWithdrawals', data: { incidentId: INCIDENT, reason: 'unauthorized withdrawals' } }, freshCommand(admin));
    // A price recorded after the incident opened does not value its losses.
    await price('ETH', '2500');
    await price('CRO', '0.4012');
    for (const [accountId, withdrawalId] of [['alice', 'w-x1'], ['alice', 'w-x2'], ['bob', 'w-x1'], ['carol', 'w-x1'], ['dave', 'w-x1'], ['dave', 'w-x2']] as const) {
      await unauthorized(accountId, withdrawalId);
    }
    await ledger.executePlatform({ type: 'ResumeWithdrawals', data: { incidentId: INCIDENT, reason: 'fixed' } }, freshCommand(admin));
  }

  /** Afterwards: partial and full reimbursements, and life going on. */
  async function aftermath(): Promise<void> {
    await reimburse('alice', 'r-1', 'ETH', '4.836');
    await reimburse('alice', 'r-2', 'BTC', '0.2');
    await reimburse('bob', 'r-1', 'ETH', '6');
    await reimburse('bob', 'r-2', 'ETH', '5.999999999999999999');
    await reimburse('dave', 'r-1', 'USDC', '40.000001');
    await withdraw('bob', 'w-after', 'ETH', '0.5');
    await approve('bob', 'w-after');
    await settle('bob', 'w-after');
    await account('erin', { type: 'DepositFunds', data: { depositId: 'dep-late', asset: 'BTC', amount: '0.00000001' } });
  }

  async function expectAgreement(rs: ReadStore): Promise<void> {
    for (const accountId of [...ACCOUNTS, 'nobody']) {
      const folded = await ledger.balances(accountId);
      const projected = await accountBalances(rs, accountId);
      if (folded === null) expect(projected).toBeNull();
      else expect(projected).toEqual({ accountId: folded.accountId, balances: folded.balances });
    }

    // Incident losses: per account as its state holds them, per asset as the sum over accounts.
    const sums = new Map<AssetCode, { lost: bigint; reimbursed: bigint }>();
    const ledgerPage = await incidentLedger(rs, INCIDENT, { limit: 100 });
    for (const accountId of ACCOUNTS) {
      const { state } = await ledger.accounts.load(accountStream(accountId), { refresh: true });
      const losses: ReadonlyMap<AssetCode, IncidentLoss> = state.losses.get(INCIDENT) ?? new Map();
      const entry = ledgerPage.items.find((item) => item.accountId === accountId);
      for (const [asset, loss] of losses) {
        expect(entry?.assets[asset]).toMatchObject({
          lost: formatAmount(asset, loss.lostMinor),
          reimbursed: formatAmount(asset, loss.reimbursedMinor),
          outstanding: formatAmount(asset, loss.lostMinor - loss.reimbursedMinor),
        });
        const sum = sums.get(asset) ?? { lost: 0n, reimbursed: 0n };
        sums.set(asset, { lost: sum.lost + loss.lostMinor, reimbursed: sum.reimbursed + loss.reimbursedMinor });
      }
      for (const [asset, loss] of Object.entries(entry?.assets ?? {})) {
        if (loss.lost !== '0') expect(losses.has(asset as AssetCode)).toBe(true);
      }
    }
    const totals = await lossTotals(rs, INCIDENT);
    for (const total of totals?.assets ?? []) {
      const sum = sums.get(total.asset) ?? { lost: 0n, reimbursed: 0n };
      expect([total.asset, total.lost, total.reimbursed]).toEqual([total.asset, formatAmount(total.asset, sum.lost), formatAmount(total.asset, sum.reimbursed)]);
    }
    expect(totals?.assets.filter((total) => total.lost !== '0').map((total) => total.asset) ?? []).toEqual([...sums.keys()].sort());
  }

  /** The USD values at the prices recorded before the incident, the statuses, and every reimbursement. */
  async function expectIncidentReport(rs: ReadStore): Promise<void> {
    const totals = (await lossTotals(rs, INCIDENT))!;
    const eth = totals.assets.find((total) => total.asset === 'ETH')!;
    // alice 4.836 + bob 12 lost; carol 5 and dave 1 prevented (still pending when reported).
    expect(eth).toMatchObject({ lost: '16.836', prevented: '6', reimbursed: '16.835999999999999999', outstanding: '0.000000000000000001' });
    expect(eth).toMatchObject({ affectedAccounts: 4, priceUsd: '3129', priceSource: 'incident-opened', lostUsd: usdAt('ETH', '16.836', '3129') });
    expect(eth.lostUsd).toBe('52679.84');
    // 0.4439 * 41929.5 = 18612.505: half a cent, rounded up.
    expect(totals.assets.find((total) => total.asset === 'BTC')).toMatchObject({ lost: '0.4439', reimbursed: '0.2', lostUsd: '18612.51' });
    expect(totals.assets.find((total) => total.asset === 'USDC')).toMatchObject({ lost: '40.000001', outstanding: '0', outstandingUsd: '0.00' });
    expect(totals.unpricedAssets).toEqual([]);

    const statuses = Object.fromEntries((await incidentLedger(rs, INCIDENT)).items.map((item) => [item.accountId, item.status]));
    expect(statuses).toEqual({ alice: 'outstanding', bob: 'outstanding', carol: 'prevented', dave: 'reimbursed' });

    const paid = (await reimbursements(rs, { incidentId: INCIDENT })).items.map((r) => `${r.accountId}:${r.reimbursementId}:${r.asset}:${r.amount}`);
    expect(paid).toEqual(['alice:r-1:ETH:4.836', 'alice:r-2:BTC:0.2', 'bob:r-1:ETH:6', 'bob:r-2:ETH:5.999999999999999999', 'dave:r-1:USDC:40.000001']);
  }

  it('agree after every phase, whether a runner follows along or a new process catches up', async () => {
    await ordinaryDays();
    const rs = openReadStore();
    await new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS, batchSize: 25 }).catchUp();
    await expectAgreement(rs);

    await incident();
    // A new process (cold cache): rows it changes are read back from the read store first.
    await new ProjectionRunner({ store, readStore: openReadStore(), projections: ALL_PROJECTIONS, batchSize: 25 }).catchUp();
    await expectAgreement(rs);

    const live = new ProjectionRunner({ store, readStore: rs, projections: ALL_PROJECTIONS });
    live.start();
    try {
      await aftermath();
      expect(await live.waitUntil((await store.headPosition())!, 30_000)).toBe(true);
    } finally {
      await live.stop();
    }
    await expectAgreement(rs);
    await expectIncidentReport(rs);

    const report = await reconcile({ store, readStore: rs, projections: ALL_PROJECTIONS });
    expect(report.projections.map((p) => p.differenceCount)).toEqual(ALL_PROJECTIONS.map(() => 0));
  });
});

function usdAt(asset: AssetCode, amount: string, priceUsd: string): string {
  const parsed = parsePrice(priceUsd);
  if (!parsed.ok) throw new Error(parsed.reason);
  return valueUsd(asset, toMinor(asset, amount), parsed.scaled);
}
