import { TwoFactorRevocationJob } from '@app/ledger';
import { ADDRESS_1, fundedAccount, roleFor, startTestApp, type TestApp } from './support/test-app';

const TX = '0x' + 'cd'.repeat(32);

function withdrawal(withdrawalId: string, amount = '1', twoFactorTokenId = 'tok-1') {
  return { withdrawalId, asset: 'ETH', amount, address: ADDRESS_1, twoFactorTokenId };
}

/** Business refusals get 422 with the DomainError code and append nothing. */
describe('business rules over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function expectRefusal(path: string, body: object, code: string): Promise<void> {
    const before = await t.head();
    const response = await t.as(roleFor(path)).post(path).send(body).expect(422);
    expect(response.body).toMatchObject({ statusCode: 422, code });
    expect(await t.head()).toBe(before);
  }

  it('refuses a withdrawal over the available balance, held funds included', async () => {
    await fundedAccount(t, 'r-funds', '3');
    await t.service.post('/v1/accounts/r-funds/withdrawals').send(withdrawal('w1', '2')).expect(201);
    await expectRefusal('/v1/accounts/r-funds/withdrawals', withdrawal('w2', '1.000000000000000001'), 'INSUFFICIENT_FUNDS');
    await t.service.post('/v1/accounts/r-funds/withdrawals').send(withdrawal('w3', '1')).expect(201);
  });

  it('refuses a non-whitelisted address', async () => {
    await fundedAccount(t, 'r-addr');
    await expectRefusal('/v1/accounts/r-addr/withdrawals', { ...withdrawal('w1'), address: '0xDEADBEEF00000000' }, 'ADDRESS_NOT_WHITELISTED');
  });

  it('refuses a revoked token, and every old token after a platform-wide revocation', async () => {
    await fundedAccount(t, 'r-2fa');
    await t.service.post('/v1/accounts/r-2fa/two-factor-tokens/tok-1/revoke').send({ reason: 'lost phone' }).expect(201);
    await expectRefusal('/v1/accounts/r-2fa/withdrawals', withdrawal('w1'), 'TWO_FACTOR_REVOKED');

    await t.service.post('/v1/accounts/r-2fa/two-factor-tokens').send({ tokenId: 'tok-2', method: 'webauthn' }).expect(201);
    await t.admin.post('/v1/incidents').send({ incidentId: 'inc-2fa', title: '2FA bypass' }).expect(201);
    t.clock.advance({ minutes: 1 });
    const revoked = await t.admin.post('/v1/platform/two-factor-tokens/revoke-all').send({ incidentId: 'inc-2fa', reason: '2FA bypass' }).expect(201);
    await t.app.get(TwoFactorRevocationJob).run(revoked.body.revocationId);
    await expectRefusal('/v1/accounts/r-2fa/withdrawals', withdrawal('w1', '1', 'tok-2'), 'TWO_FACTOR_REVOKED');

    t.clock.advance({ minutes: 1 });
    await t.service.post('/v1/accounts/r-2fa/two-factor-tokens').send({ tokenId: 'tok-3', method: 'totp' }).expect(201);
    await t.service.post('/v1/accounts/r-2fa/withdrawals').send(withdrawal('w1', '1', 'tok-3')).expect(201);

    const trace = [];
    for await (const event of t.store.readStream('account-r-2fa')) if (event.type === 'TwoFactorTokenRevoked') trace.push(event.data);
    expect(trace).toEqual([
      expect.objectContaining({ tokenId: 'tok-1', reason: 'lost phone' }),
      expect.objectContaining({ tokenId: 'tok-2', platformRevocationId: revoked.body.revocationId }),
    ]);
  });

  it('refuses requests, approvals and settlements while withdrawals are halted', async () => {
    await fundedAccount(t, 'r-halt');
    await t.service.post('/v1/accounts/r-halt/withdrawals').send(withdrawal('w1')).expect(201);
    await t.service.post('/v1/accounts/r-halt/withdrawals').send(withdrawal('w2')).expect(201);
    await t.service.post('/v1/accounts/r-halt/withdrawals/w2/approve').send({}).expect(201);
    await t.admin.post('/v1/platform/withdrawals/halt').send({ reason: 'investigation' }).expect(201);
    try {
      await expectRefusal('/v1/accounts/r-halt/withdrawals', withdrawal('w3'), 'WITHDRAWALS_HALTED');
      await expectRefusal('/v1/accounts/r-halt/withdrawals/w1/approve', {}, 'WITHDRAWALS_HALTED');
      await expectRefusal('/v1/accounts/r-halt/withdrawals/w2/settle', { txHash: TX }, 'WITHDRAWALS_HALTED');
      await expectRefusal('/v1/platform/withdrawals/halt', { reason: 'again' }, 'WITHDRAWALS_ALREADY_HALTED');
      await t.service.post('/v1/accounts/r-halt/withdrawals/w1/cancel').send({ reason: 'customer asked' }).expect(201);
    } finally {
      await t.admin.post('/v1/platform/withdrawals/resume').send({ reason: 'all clear' }).expect(201);
    }
  });

  it('refuses a second settle, and a reimbursement beyond the loss', async () => {
    await fundedAccount(t, 'r-loss', '5');
    await t.service.post('/v1/accounts/r-loss/withdrawals').send(withdrawal('w1', '2')).expect(201);
    await t.service.post('/v1/accounts/r-loss/withdrawals/w1/approve').send({}).expect(201);
    await t.service.post('/v1/accounts/r-loss/withdrawals/w1/settle').send({ txHash: TX }).expect(201);
    await expectRefusal('/v1/accounts/r-loss/withdrawals/w1/settle', { txHash: TX }, 'WITHDRAWAL_ALREADY_FINAL');

    await t.admin.post('/v1/incidents').send({ incidentId: 'inc-loss', title: 'theft' }).expect(201);
    await t.admin.post('/v1/accounts/r-loss/withdrawals/w1/unauthorized').send({ incidentId: 'inc-loss' }).expect(201);
    await expectRefusal(
      '/v1/accounts/r-loss/reimbursements',
      { reimbursementId: 'rb-1', incidentId: 'inc-loss', asset: 'ETH', amount: '2.000000000000000001' },
      'REIMBURSEMENT_EXCEEDS_LOSS',
    );
    await t.admin.post('/v1/accounts/r-loss/reimbursements').send({ reimbursementId: 'rb-1', incidentId: 'inc-loss', asset: 'ETH', amount: '2' }).expect(201);
    await expectRefusal('/v1/accounts/r-loss/reimbursements', { reimbursementId: 'rb-2', incidentId: 'inc-loss', asset: 'ETH', amount: '0.1' }, 'REIMBURSEMENT_EXCEEDS_LOSS');
    const balances = await t.service.get('/v1/accounts/r-loss/balances').expect(200);
    expect(balances.body.balances.ETH).toEqual({ available: '5', held: '0', withdrawn: '2', deposited: '5', reimbursed: '2' });
  });

  it('replays an idempotent command with 200 and refuses the key with another body with 409', async () => {
    await t.service.post('/v1/accounts').send({ accountId: 'r-idem' }).expect(201);
    const body = { depositId: 'dep-1', asset: 'BTC', amount: '0.5' };
    const first = await t.service.post('/v1/accounts/r-idem/deposits').set('Idempotency-Key', 'key-1').send(body).expect(201);
    const head = await t.head();
    const again = await t.service.post('/v1/accounts/r-idem/deposits').set('Idempotency-Key', 'key-1').send(body).expect(200);
    expect(again.body).toEqual(first.body);
    const other = await t.service.post('/v1/accounts/r-idem/deposits').set('Idempotency-Key', 'key-1').send({ ...body, amount: '0.6' }).expect(409);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await t.head()).toBe(head);
    const balances = await t.service.get('/v1/accounts/r-idem/balances').expect(200);
    expect(balances.body.balances.BTC.available).toBe('0.5');
  });

  it('answers concurrent retries of one idempotent command with one append', async () => {
    await t.service.post('/v1/accounts').send({ accountId: 'r-idem-race' }).expect(201);
    const body = { depositId: 'dep-1', asset: 'ETH', amount: '1' };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => t.service.post('/v1/accounts/r-idem-race/deposits').set('Idempotency-Key', 'race').send(body)),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(responses.map((r) => r.body.position)).size).toBe(1);
  });

  it('accepts exactly 10 of 50 concurrent withdrawals of 1 on a balance of 10', async () => {
    await fundedAccount(t, 'r-race', '10');
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => t.service.post('/v1/accounts/r-race/withdrawals').send(withdrawal(`w-${i}`))),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 422)).toHaveLength(40);
    expect(responses.filter((r) => r.status === 422).every((r) => r.body.code === 'INSUFFICIENT_FUNDS')).toBe(true);
    const balances = await t.service.get('/v1/accounts/r-race/balances').expect(200);
    expect(balances.body.balances.ETH).toMatchObject({ available: '0', held: '10' });
  });

  it('decides a protection claim at filing: approved at recorded prices, or denied with every failed condition', async () => {
    await fundedAccount(t, 'r-claim', '10');
    await t.service.post('/v1/accounts/r-claim/protection/enrol').send({}).expect(201);
    await t.service.post('/v1/accounts/r-claim/mfa').send({ enabled: true, transactionTypes: ['withdrawal', 'whitelist', 'transfer', 'trade'] }).expect(201);
    await t.service.post('/v1/accounts/r-claim/anti-phishing-code').send({}).expect(201);
    t.clock.advance({ hours: 24 * 30 });
    await t.admin.post('/v1/prices').send({ asset: 'ETH', usd: '2950' }).expect(201);
    for (const id of ['w1', 'w2']) {
      await t.service.post('/v1/accounts/r-claim/withdrawals').send(withdrawal(id)).expect(201);
      await t.service.post(`/v1/accounts/r-claim/withdrawals/${id}/approve`).send({}).expect(201);
      await t.service.post(`/v1/accounts/r-claim/withdrawals/${id}/settle`).send({ txHash: TX }).expect(201);
    }
    await t.admin.post('/v1/incidents').send({ incidentId: 'inc-claim', title: 'account takeover' }).expect(201);
    for (const id of ['w1', 'w2']) await t.admin.post(`/v1/accounts/r-claim/withdrawals/${id}/unauthorized`).send({ incidentId: 'inc-claim' }).expect(201);
    const claim = { policeReportCopyProvided: true, questionnaireCompleted: true, deviceJailbroken: false };
    await t.service.post('/v1/accounts/r-claim/protection/claims').send({ claimId: 'c1', withdrawalId: 'w1', policeReportReference: 'PR-1', ...claim }).expect(201);
    await t.service.post('/v1/accounts/r-claim/protection/claims')
      .send({ claimId: 'c2', withdrawalId: 'w2', policeReportReference: null, ...claim, deviceJailbroken: true }).expect(201);
    const claims = await t.finance.get('/v1/protection-claims?accountId=r-claim').expect(200);
    const byId = Object.fromEntries(claims.body.items.map((row: { claimId: string }) => [row.claimId, row]));
    expect(byId.c1).toMatchObject({ status: 'approved', payoutUsd: '2950' });
    expect(byId.c2).toMatchObject({ status: 'denied', reasons: ['NO_POLICE_REPORT', 'DEVICE_JAILBROKEN'] });
    await expectRefusal('/v1/accounts/r-claim/protection/claims', { claimId: 'c3', withdrawalId: 'w1', policeReportReference: 'PR-1', ...claim }, 'PROTECTION_WITHDRAWAL_ALREADY_CLAIMED');
  });
});
