import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import { replay } from '@app/projections';
import { INCIDENT_ID, PUBLISHED, REVOCATION_ID, TIMES } from './facts';
import { planScenario, VICTIMS_WITH_LOSSES } from './plan';
import { buildIncidentReport, computeIncidentReport, hashLog, REPORT_PROJECTIONS, type VerifiedIncidentReport } from './report';
import { runIncidentScenario, ScenarioStoreNotEmptyError, type ScenarioResult } from './scenario';

const SEED = 20_220_117;
const ACCOUNTS = 600;
const TIMEOUT_MS = 120_000;

async function withStore<T>(path: string, use: (store: EventStore) => Promise<T>): Promise<T> {
  const store = openSqliteEventStore({ path });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

async function readAll(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
}

/** The published figures, which any seed must reproduce exactly. */
function expectPublishedFigures(verified: VerifiedIncidentReport): void {
  const report = verified.report;
  expect(report.affectedAccounts).toBe(PUBLISHED.affectedAccounts);
  expect(report.losses.slice(0, 2).map(({ asset, amount, usd }) => ({ asset, amount, usd }))).toEqual([
    { asset: 'ETH', amount: '4836.26', usd: '15132516.00' },
    { asset: 'BTC', amount: '443.93', usd: '18613630.00' },
  ]);
  expect(report.losses.slice(2).map((loss) => loss.asset)).toEqual(['CRO', 'SOL', 'USDC', 'USDT']);
  expect(report.otherAssetsUsd).toBe('66200.00');
  expect(report.totalUsd).toBe('33812346.00');
  expect(report.reimbursed.map(({ asset, amount }) => ({ asset, amount }))).toEqual(report.losses.map(({ asset, amount }) => ({ asset, amount })));
  expect(report.reimbursedUsd).toBe('33812346.00');
  expect(report.netCustomerLoss).toEqual({ ETH: '0', BTC: '0', CRO: '0', SOL: '0', USDC: '0', USDT: '0' });
  expect(report.netCustomerLossUsd).toBe('0.00');
  expect(report.accountsReimbursedInFull).toBe(VICTIMS_WITH_LOSSES);
}

describe(`the January 2022 incident played through the ledger's handlers (${ACCOUNTS} accounts)`, () => {
  let dir: string;
  let result: ScenarioResult;
  let verified: VerifiedIncidentReport;
  const storePath = () => join(dir, 'incident.db');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'incident-scenario-'));
    result = await runIncidentScenario({ seed: SEED, accounts: ACCOUNTS, storePath: storePath() });
    verified = await withStore(storePath(), (store) => buildIncidentReport({ store, readStorePath: join(dir, 'incident.read-models.db') }));
  }, TIMEOUT_MS);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('every published figure comes out exactly, from the read models', () => {
    expectPublishedFigures(verified);
    expect(verified.report.openedAt).toBe('2022-01-17T00:46:00.000Z');
    expect(verified.events).toBe(Number(result.headPosition));
  });

  test('in the majority of cases the unauthorized withdrawal was prevented: most affected accounts lost nothing', () => {
    const { total, lost, prevented } = verified.report.unauthorizedWithdrawals;
    expect(lost + prevented).toBe(total);
    expect(lost).toBeGreaterThan(0);
    expect(prevented).toBeGreaterThan(lost);
    const lostNothing = verified.accounts.filter((account) => account.withdrawals.every((w) => w.outcome === 'prevented'));
    expect(lostNothing).toHaveLength(483 - VICTIMS_WITH_LOSSES);
    expect(lostNothing.length * 2).toBeGreaterThan(verified.accounts.length);
    expect(verified.report.prevented.length).toBeGreaterThan(0);
    expect(verified.report.attackWindow!.lastRequestedAt < '2022-01-17T00:46:00.000Z').toBe(true);
  });

  test('the risk monitor, reading the same log, would have halted withdrawals minutes into the attack, flagging every attacked account and no other', () => {
    const { risk, unauthorizedWithdrawals, attackWindow } = verified.report;
    const firstAttack = Date.parse(attackWindow!.firstRequestedAt);
    expect(risk.firstAlert!.at >= attackWindow!.firstRequestedAt).toBe(true);
    const halting = risk.firstHaltingAlert!;
    expect(['shared-destination', 'withdrawal-burst', 'fresh-address-wave']).toContain(halting.rule);
    expect(Date.parse(halting.at) - firstAttack).toBeLessThan(15 * 60_000);
    expect(halting.minutesBeforeDetection).toBeGreaterThan(120);
    expect(risk).toMatchObject({ attackedAccounts: 483, flaggedAccounts: 483, flaggedAttacked: 483, recall: '1.000', precision: '1.000' });
    const c = risk.counterfactual!;
    expect(c.haltAt).toBe(halting.at);
    expect(c.stopped).toBeGreaterThan(unauthorizedWithdrawals.prevented);
    expect(c.stopped).toBeLessThanOrEqual(unauthorizedWithdrawals.total);
    expect(c.lossesPrevented).toBe(c.stopped - unauthorizedWithdrawals.prevented);
    expect(BigInt(c.lossesPreventedUsd.replace('.', ''))).toBeLessThanOrEqual(BigInt(verified.report.totalUsd.replace('.', '')));
    expect(risk.timeline.length).toBe(Math.min(50, risk.alertsBeforeDetection));
  });

  test('the halt lasts 16 h 56 min by the ledger (12 h 58 min from the 04:44 announcement; the company said ~14 hours)', () => {
    expect(verified.report.haltDuration).toMatchObject({
      haltedAt: '2022-01-17T00:46:00.000Z',
      resumedAt: '2022-01-17T17:42:00.000Z',
      seconds: 60_960,
      text: '16 h 56 min',
      fromAnnouncement: { seconds: 46_680, text: '12 h 58 min' },
      companyStatement: '~14 hours',
    });
  });

  test('the timeline shows UTC and New York time: halted on 2022-01-17 UTC, 2022-01-16 in New York', () => {
    const ledgerItems = verified.report.timeline.filter((item) => item.source === 'ledger').map(({ at, eastern, event }) => ({ at, eastern, event }));
    expect(ledgerItems).toEqual(
      expect.arrayContaining([
        { at: '2022-01-17T00:46:00.000Z', eastern: '2022-01-16 19:46 EST', event: 'Withdrawals halted' },
        { at: '2022-01-17T04:44:00.000Z', eastern: '2022-01-16 23:44 EST', event: 'Every 2FA token revoked, platform-wide' },
        { at: '2022-01-17T17:42:00.000Z', eastern: '2022-01-17 12:42 EST', event: 'Withdrawals resumed after 16 h 56 min' },
        { at: '2022-01-18T10:17:00.000Z', eastern: '2022-01-18 05:17 EST', event: 'Hold on new whitelisted addresses: 24 h (was 0 h)' },
      ]),
    );
    const times = verified.report.timeline.map((item) => Date.parse(item.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  test('protection claims: approved, capped at US$250,000 per account, and denied for every condition', () => {
    expect(verified.report.claims).toEqual({
      filed: 12,
      approved: 4,
      denied: 8,
      capped: 2,
      claimedUsd: '662725.00',
      payoutUsd: '536875.00',
      byReason: {
        TRANSACTION_BEFORE_PROGRAMME: 1,
        LOSS_ALREADY_COMPENSATED: 1,
        MFA_NOT_ON_ALL_TRANSACTIONS: 2,
        ANTI_PHISHING_CODE_TOO_RECENT: 2,
        NO_POLICE_REPORT: 2,
        NO_POLICE_REPORT_COPY: 2,
        QUESTIONNAIRE_INCOMPLETE: 2,
        DEVICE_JAILBROKEN: 1,
      },
    });
    expect(result.claimsChecked).toBe(12);
    const several = verified.claims.find((claim) => claim.reasons.length > 2);
    expect(several?.reasons).toHaveLength(5);
  });

  test('from the resumption on, every withdrawal and new address carries a verified second-factor proof; none before', async () => {
    const events = await withStore(storePath(), readAll);
    const policies = events.filter((event) => event.type === 'SecondFactorPolicyChanged').map((event) => [event.metadata.recordedAt, (event.data as { required: boolean }).required]);
    expect(policies).toEqual([[TIMES.platformStart.toISO(), false], [TIMES.resumption.toISO(), true]]);
    const gated = events.filter((event) => event.type === 'WithdrawalRequested' || event.type === 'AddressWhitelisted');
    const after = gated.filter((event) => event.metadata.recordedAt >= TIMES.resumption.toISO()!);
    const before = gated.filter((event) => event.metadata.recordedAt < TIMES.resumption.toISO()!);
    expect(after.length).toBeGreaterThan(20);
    for (const event of after) {
      expect((event.data as { secondFactor?: object }).secondFactor).toEqual({ kid: 'scenario-attester', amr: [expect.any(String)], jti: expect.stringMatching(/^[0-9a-f]{32}$/), proofSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
    expect(before.every((event) => (event.data as { secondFactor?: object }).secondFactor === undefined)).toBe(true);
  });

  test('the rules refused what they must along the way, appending nothing', () => {
    expect(result.refusalsChecked.map((refusal) => refusal.code)).toEqual([
      'WITHDRAWALS_HALTED',
      'TWO_FACTOR_REVOKED',
      'REIMBURSEMENT_EXCEEDS_LOSS',
      'ADDRESS_ON_HOLD',
      'PROTECTION_NOT_ENROLLED',
      'PROTECTION_WITHDRAWAL_ALREADY_CLAIMED',
    ]);
  });

  test('the log is in time order, within the scenario, and the revocation is traced on every account', async () => {
    const events = await withStore(storePath(), readAll);
    const recorded = events.map((event) => Date.parse(event.metadata.recordedAt));
    expect(recorded).toEqual([...recorded].sort((a, b) => a - b));
    expect(recorded[0]).toBe(TIMES.platformStart.toMillis());
    expect(recorded[recorded.length - 1]).toBe(TIMES.phishingClosed.toMillis());
    const traced = events.filter((event) => event.type === 'TwoFactorTokenRevoked' && (event.data as { platformRevocationId?: string }).platformRevocationId === REVOCATION_ID);
    expect(new Set(traced.map((event) => event.streamId)).size).toBe(ACCOUNTS);
    expect(events.filter((event) => event.type === 'WithdrawalPolicyChanged').map((event) => event.data)).toEqual([
      { newAddressHoldHours: 0, previousNewAddressHoldHours: 24, changedAt: '2021-03-01T00:00:00.000Z' },
      { newAddressHoldHours: 24, previousNewAddressHoldHours: 0, changedAt: '2022-01-18T10:17:00.000Z' },
    ]);
  });

  test('the report from the SQLite read models equals the report from an in-memory replay', async () => {
    const fromReplay = await withStore(storePath(), async (store) => {
      const replayed = await replay({ store, projections: REPORT_PROJECTIONS });
      try {
        return await computeIncidentReport(replayed, INCIDENT_ID);
      } finally {
        await replayed.close();
      }
    });
    const { report, lossTotals, accounts, reimbursements, claims } = verified;
    expect(fromReplay).toEqual({ report, lossTotals, accounts, reimbursements, claims });
    expect(accounts).toHaveLength(483);
    expect(reimbursements.length).toBeGreaterThanOrEqual(VICTIMS_WITH_LOSSES);
  });

  test(
    'the same seed appends a byte-identical log; another seed another log with the same published figures',
    async () => {
      await runIncidentScenario({ seed: SEED, accounts: ACCOUNTS, storePath: join(dir, 'again.db') });
      const again = await withStore(join(dir, 'again.db'), (store) => hashLog(store));
      expect(again).toEqual({ sha256: verified.eventLogSha256, events: verified.events });
      expect(verified.eventLogSha256).toMatch(/^[0-9a-f]{64}$/);

      await runIncidentScenario({ seed: 7, accounts: ACCOUNTS, storePath: join(dir, 'other.db') });
      const other = await withStore(join(dir, 'other.db'), (store) => buildIncidentReport({ store }));
      expect(other.eventLogSha256).not.toBe(verified.eventLogSha256);
      expectPublishedFigures(other);
    },
    TIMEOUT_MS,
  );

  test('a store that already holds events is refused, and nothing is appended to it', async () => {
    await expect(runIncidentScenario({ seed: SEED, accounts: ACCOUNTS, storePath: storePath() })).rejects.toBeInstanceOf(ScenarioStoreNotEmptyError);
    expect(await withStore(storePath(), (store) => store.headPosition())).toBe(result.headPosition);
  });
});

describe(`the same attack against a ledger that requires proof of the second factor from the start (${ACCOUNTS} accounts)`, () => {
  let dir: string;
  let result: ScenarioResult;
  let verified: VerifiedIncidentReport;
  const storePath = () => join(dir, 'defended.db');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'incident-defended-'));
    result = await runIncidentScenario({ seed: SEED, accounts: ACCOUNTS, storePath: storePath(), defences: 'on' });
    verified = await withStore(storePath(), (store) => buildIncidentReport({ store }));
  }, TIMEOUT_MS);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('every attack whitelisting and withdrawal is refused SECOND_FACTOR_REQUIRED, and nothing is lost', () => {
    const plan = planScenario(SEED, ACCOUNTS);
    const attack = {
      whitelistings: plan.victims.reduce((n, victim) => n + victim.whitelist.length, 0),
      withdrawals: plan.victims.reduce((n, victim) => n + victim.withdrawals.length, 0),
    };
    expect(result.defences).toBe('on');
    expect(result.attackRefused).toEqual(attack);
    expect(result.refusalsChecked.filter((refusal) => refusal.code === 'SECOND_FACTOR_REQUIRED')).toHaveLength(attack.whitelistings + attack.withdrawals);
    const report = verified.report;
    expect(report.affectedAccounts).toBe(0);
    expect(report.unauthorizedWithdrawals).toEqual({ total: 0, lost: 0, prevented: 0 });
    expect(report.losses).toEqual([]);
    expect(report.totalUsd).toBe('0.00');
    expect(report.reimbursedUsd).toBe('0.00');
  });

  test('the attackers leave nothing in the log; the customers\' own withdrawals, each with a proof, go through', async () => {
    const plan = planScenario(SEED, ACCOUNTS);
    const attackers = new Set(plan.victims.flatMap((victim) => victim.whitelist.map((w) => w.address)));
    const events = await withStore(storePath(), readAll);
    const whitelisted = events.filter((event) => event.type === 'AddressWhitelisted');
    expect(whitelisted.filter((event) => attackers.has((event.data as { address: string }).address))).toEqual([]);
    // Only the March phishing cases (the customers gave their factor away) are reported; nothing of January.
    const reported = events.filter((event) => event.type === 'UnauthorizedWithdrawalDetected');
    expect(reported.filter((event) => (event.data as { incidentId: string }).incidentId === INCIDENT_ID)).toEqual([]);
    const requested = events.filter((event) => event.type === 'WithdrawalRequested');
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.every((event) => (event.data as { secondFactor?: object }).secondFactor !== undefined)).toBe(true);
    expect(events.some((event) => event.type === 'WithdrawalSettled')).toBe(true);
  });
});
