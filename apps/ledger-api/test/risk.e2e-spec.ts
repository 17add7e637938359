import { PLATFORM_STREAM } from '@app/domain';
import { Ledger, RiskAlertJob } from '@app/ledger';
import { ProjectionRunner, READ_STORE, riskAlertsProjection, replay, riskAlerts, type ReadStore } from '@app/projections';
import { ADDRESS_1, fundedAccount, startTestApp, type TestApp } from './support/test-app';

const ACCOUNTS = ['ra', 'rb', 'rc'];
const quiet = { log: () => undefined, error: () => undefined };

/**
 * The risk monitor over HTTP (issue 11, part 2): the rules detect from the log, the alert job raises each detection
 * once on the `risk` stream and halts withdrawals when the policy says so (once per alert, even with two jobs at
 * once), and admins acknowledge, dismiss or confirm alerts. The job runs when the test says (pass()), not on a timer.
 */
describe('risk alerts and the automatic halt', () => {
  let t: TestApp;
  let job: RiskAlertJob;
  let n = 0;

  /** Each account withdraws 1 ETH to the same address, a minute apart: a shared-destination episode. */
  async function sharedDestinationEpisode(): Promise<string[]> {
    const ids: string[] = [];
    for (const accountId of ACCOUNTS) {
      n += 1;
      const withdrawalId = `w-${n}`;
      await t.service.post(`/v1/accounts/${accountId}/withdrawals`)
        .send({ withdrawalId, asset: 'ETH', amount: '1', address: ADDRESS_1, twoFactorTokenId: 'tok-1' }).expect(201);
      ids.push(`${accountId}/${withdrawalId}`);
      t.clock.advance({ minutes: 1 });
    }
    return ids;
  }

  /** Lets the projector reach the head, as the job's reads need. */
  async function caughtUp(): Promise<void> {
    expect(await t.app.get(ProjectionRunner).waitUntil(await t.head(), 5_000)).toBe(true);
  }

  async function alerts(query = ''): Promise<Array<Record<string, unknown>>> {
    const response = await t.admin.get(`/v1/risk/alerts${query}`).expect(200);
    return response.body.items;
  }

  beforeAll(async () => {
    t = await startTestApp();
    job = t.app.get(RiskAlertJob);
    await t.admin.post('/v1/incidents').send({ incidentId: 'inc-risk', title: 'shared destination' }).expect(201);
    for (const id of ACCOUNTS) await fundedAccount(t, id, '10');
  });
  afterAll(() => t.close());

  it('detects three accounts withdrawing to one address, raises it once, and does not halt without a policy', async () => {
    const withdrawals = await sharedDestinationEpisode();
    const detected = await alerts('?status=detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]).toMatchObject({ rule: 'shared-destination', severity: 'high', status: 'detected', accounts: ACCOUNTS, raisedAt: null });
    expect((detected[0]!.withdrawals as Array<{ accountId: string; withdrawalId: string }>).map((w) => `${w.accountId}/${w.withdrawalId}`)).toEqual(withdrawals);
    expect(detected[0]!.summary).toBe(`3 accounts withdraw ETH to ${ADDRESS_1} within 60 minutes`);

    expect(await job.pass()).toEqual({ raised: 1, halted: 0, skipped: 0, confirmed: 0 });
    await caughtUp();
    expect(await job.pass()).toEqual({ raised: 0, halted: 0, skipped: 0, confirmed: 0 });
    const raised = await alerts();
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ status: 'raised', halts: false, haltOutcome: null });
    expect((await t.auditor.get('/v1/risk/alerts?rule=shared-destination').expect(200)).body.items).toHaveLength(1);
    expect((await t.admin.get('/v1/risk/alerts?rule=withdrawal-burst').expect(200)).body.items).toEqual([]);
    await t.finance.get('/v1/risk/alerts').expect(403);
    await t.service.get('/v1/risk/alerts').expect(403);
    // Withdrawals go on.
    await t.service.post('/v1/accounts/ra/withdrawals').send({ withdrawalId: 'w-free', asset: 'ETH', amount: '1', address: ADDRESS_1, twoFactorTokenId: 'tok-1' }).expect(201);
  });

  it('refuses a bad filter, naming it', async () => {
    const status = await t.admin.get('/v1/risk/alerts?status=open').expect(400);
    expect(status.body.errors[0]).toMatchObject({ field: 'status' });
    expect(status.body.errors[0].reasons[0]).toContain('must be one of detected, raised, acknowledged, dismissed, confirmed');
    const rule = await t.admin.get('/v1/risk/alerts?rule=everything').expect(400);
    expect(rule.body.errors[0]).toMatchObject({ field: 'rule' });
  });

  it('changes the auto-halt policy, refusing bad rules and severities and an unchanged policy', async () => {
    const head = await t.head();
    const badRule = await t.admin.post('/v1/platform/auto-halt-policy').send({ rules: ['shared-destination', 'moon-phase'], minSeverity: 'high' }).expect(400);
    expect(badRule.body.errors.map((e: { field: string }) => e.field)).toEqual(['rules']);
    const badSeverity = await t.admin.post('/v1/platform/auto-halt-policy').send({ rules: ['shared-destination'], minSeverity: 'severe' }).expect(400);
    expect(badSeverity.body.errors.map((e: { field: string }) => e.field)).toEqual(['minSeverity']);
    await t.admin.post('/v1/platform/auto-halt-policy').send({ minSeverity: 'high' }).expect(400);
    expect(await t.head()).toBe(head);

    await t.admin.post('/v1/platform/auto-halt-policy').send({ rules: ['shared-destination', 'withdrawal-burst'], minSeverity: 'high' }).expect(201);
    const again = await t.admin.post('/v1/platform/auto-halt-policy').send({ rules: ['withdrawal-burst', 'shared-destination'], minSeverity: 'high' }).expect(422);
    expect(again.body.code).toBe('AUTO_HALT_POLICY_UNCHANGED');
    await t.service.post('/v1/platform/auto-halt-policy').send({ rules: [], minSeverity: 'high' }).expect(403);
  });

  it('halts withdrawals on a halting alert exactly once, even with two jobs at once, and not again after a resume', async () => {
    t.clock.advance({ hours: 2 });
    await sharedDestinationEpisode();
    await caughtUp();
    const second = new RiskAlertJob(t.app.get(Ledger), t.app.get<ReadStore>(READ_STORE), quiet);
    const [a, b] = await Promise.all([job.pass(), second.pass()]);
    expect(a.raised + b.raised).toBe(1);
    expect(a.halted + b.halted).toBe(1);

    const refused = await t.service.post('/v1/accounts/rb/withdrawals')
      .send({ withdrawalId: 'w-halted', asset: 'ETH', amount: '1', address: ADDRESS_1, twoFactorTokenId: 'tok-1' }).expect(422);
    expect(refused.body.code).toBe('WITHDRAWALS_HALTED');
    const halts = (await t.auditor.get(`/v1/audit/streams/${PLATFORM_STREAM}?limit=200`).expect(200)).body.events.filter((e: { type: string }) => e.type === 'WithdrawalsHalted');
    expect(halts).toHaveLength(1);
    const halting = (await alerts('?status=raised')).find((alert) => alert.halts === true);
    expect(halts[0].data).toMatchObject({ alertId: halting!.alertId, incidentId: null });
    expect(halts[0].data.reason).toContain(`risk alert ${String(halting!.alertId)} (shared-destination, high)`);
    expect(halting).toMatchObject({ halts: true, haltOutcome: 'halted' });

    await t.admin.post('/v1/platform/withdrawals/resume').send({ reason: 'the destination is the exchange’s own cold wallet' }).expect(201);
    await caughtUp();
    expect(await job.pass()).toEqual({ raised: 0, halted: 0, skipped: 0, confirmed: 0 });
    await t.service.post('/v1/accounts/rb/withdrawals').send({ withdrawalId: 'w-resumed', asset: 'ETH', amount: '1', address: ADDRESS_1, twoFactorTokenId: 'tok-1' }).expect(201);
  });

  it('records a halting alert that finds withdrawals halted already, so that it never halts them later', async () => {
    t.clock.advance({ hours: 2 });
    await sharedDestinationEpisode();
    // An admin halted by hand before the job came round.
    await t.admin.post('/v1/platform/withdrawals/halt').send({ reason: 'investigating' }).expect(201);
    await caughtUp();
    expect(await job.pass()).toEqual({ raised: 1, halted: 0, skipped: 1, confirmed: 0 });
    await t.admin.post('/v1/platform/withdrawals/resume').send({ reason: 'reviewed' }).expect(201);
    await caughtUp();
    expect(await job.pass()).toEqual({ raised: 0, halted: 0, skipped: 0, confirmed: 0 });
    const latest = (await alerts('?status=raised')).at(-1);
    expect(latest).toMatchObject({ halts: true, haltOutcome: 'already-halted' });
    const platform = (await t.auditor.get(`/v1/audit/streams/${PLATFORM_STREAM}?limit=200`).expect(200)).body.events.map((e: { type: string }) => e.type);
    expect(platform.filter((type: string) => type === 'RiskHaltSkipped')).toHaveLength(1);
    expect(platform.slice(-3)).toEqual(['WithdrawalsHalted', 'RiskHaltSkipped', 'WithdrawalsResumed']);
  });

  it('acknowledges and dismisses an alert, refusing what its state does not allow, and 404s an unknown one', async () => {
    const [first] = await alerts();
    const id = String(first!.alertId);
    await t.admin.post(`/v1/risk/alerts/${id}/acknowledge`).send({}).expect(201);
    expect((await t.admin.post(`/v1/risk/alerts/${id}/acknowledge`).send({}).expect(422)).body.code).toBe('RISK_ALERT_ALREADY_ACKNOWLEDGED');
    const noReason = await t.admin.post(`/v1/risk/alerts/${id}/dismiss`).send({}).expect(400);
    expect(noReason.body.errors.map((e: { field: string }) => e.field)).toEqual(['reason']);
    await t.admin.post(`/v1/risk/alerts/${id}/dismiss`).send({ reason: 'payroll to a shared custodian' }).expect(201);
    expect((await t.admin.post(`/v1/risk/alerts/${id}/dismiss`).send({ reason: 'again' }).expect(422)).body.code).toBe('RISK_ALERT_ALREADY_CLOSED');
    expect((await t.admin.post(`/v1/risk/alerts/${id}/confirm`).send({ incidentId: 'inc-risk' }).expect(422)).body.code).toBe('RISK_ALERT_ALREADY_CLOSED');
    expect((await t.admin.post('/v1/risk/alerts/shared-destination-999999/acknowledge').send({}).expect(404)).body.code).toBe('RISK_ALERT_NOT_FOUND');
    await t.admin.post('/v1/risk/alerts/not%20an%20id/acknowledge').send({}).expect(400);
    await t.service.post(`/v1/risk/alerts/${id}/acknowledge`).send({}).expect(403);
    await caughtUp();
    const [dismissed] = await alerts('?status=dismissed');
    expect(dismissed).toMatchObject({ alertId: id, dismissReason: 'payroll to a shared custodian' });
    expect(dismissed!.acknowledgedAt).not.toBeNull();
  });

  it('confirms an alert into an incident: every withdrawal it names is reported unauthorized, once', async () => {
    const [, second] = await alerts();
    const id = String(second!.alertId);
    const missing = await t.admin.post(`/v1/risk/alerts/${id}/confirm`).send({}).expect(400);
    expect(missing.body.errors.map((e: { field: string }) => e.field)).toEqual(['incidentId']);
    expect((await t.admin.post(`/v1/risk/alerts/${id}/confirm`).send({ incidentId: 'inc-none' }).expect(404)).body.code).toBe('INCIDENT_NOT_FOUND');

    // An admin reported one of its withdrawals already: the confirmation reports the other two.
    const [already] = second!.withdrawals as Array<{ accountId: string; withdrawalId: string }>;
    await t.admin.post(`/v1/accounts/${already!.accountId}/withdrawals/${already!.withdrawalId}/unauthorized`).send({ incidentId: 'inc-risk' }).expect(201);
    const confirmed = await t.admin.post(`/v1/risk/alerts/${id}/confirm`).send({ incidentId: 'inc-risk' }).expect(201);
    expect(confirmed.body).toMatchObject({ reported: 2, alreadyReportedOrFinal: 1 });
    expect((await t.admin.post(`/v1/risk/alerts/${id}/confirm`).send({ incidentId: 'inc-risk' }).expect(422)).body.code).toBe('RISK_ALERT_ALREADY_CLOSED');
    expect(await job.pass()).toEqual({ raised: 0, halted: 0, skipped: 0, confirmed: 0 });

    const ledger = await t.finance.get('/v1/incidents/inc-risk/ledger').expect(200);
    expect(ledger.body.items.map((item: { accountId: string }) => item.accountId).sort()).toEqual(ACCOUNTS);
    const [row] = await alerts('?status=confirmed');
    expect(row).toMatchObject({ alertId: id, incidentId: 'inc-risk', confirmationCompleted: true });
  });

  it('changes thresholds within bounds, naming a bad one, and refuses an unchanged set', async () => {
    const head = await t.head();
    const low = await t.admin.post('/v1/risk/rules').send({ sharedDestinationAccounts: 1 }).expect(400);
    expect(low.body.errors).toEqual([{ field: 'sharedDestinationAccounts', reasons: ['sharedDestinationAccounts must be at least 2'] }]);
    const fraction = await t.admin.post('/v1/risk/rules').send({ freshAddressMinutes: 1.5 }).expect(400);
    expect(fraction.body.errors.map((e: { field: string }) => e.field)).toEqual(['freshAddressMinutes']);
    await t.admin.post('/v1/risk/rules').send({ burstMinWithdrawals: 'many' }).expect(400);
    expect(await t.head()).toBe(head);
    expect((await t.admin.post('/v1/risk/rules').send({ sharedDestinationAccounts: 3 }).expect(422)).body.code).toBe('RISK_RULES_UNCHANGED');

    await t.admin.post('/v1/risk/rules').send({ sharedDestinationAccounts: 4 }).expect(201);
    t.clock.advance({ hours: 2 });
    await sharedDestinationEpisode();
    await caughtUp();
    expect(await alerts('?status=detected')).toEqual([]);
  });

  it('replays the log to the same alerts: a rebuilt monitor detects nothing new and the job raises nothing', async () => {
    await caughtUp();
    const stored = await riskAlerts(t.app.get<ReadStore>(READ_STORE), { limit: 100 });
    const rebuilt = await replay({ store: t.store, projections: [riskAlertsProjection] });
    const replayed = await riskAlerts(rebuilt, { limit: 100 });
    expect(replayed.items).toEqual(stored.items);
    expect(stored.items.map((row) => row.status)).toEqual(['dismissed', 'confirmed', 'raised']);
    expect(await job.pass()).toEqual({ raised: 0, halted: 0, skipped: 0, confirmed: 0 });
  });
});
