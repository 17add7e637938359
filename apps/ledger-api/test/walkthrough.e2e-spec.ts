import { ADDRESS_1, ADDRESS_2, startTestApp, type TestApp } from './support/test-app';

/** The README's curl walkthrough, step by step, against the real application and a real SQLite file. */
const whitelistProof = (t: TestApp, address: string) =>
  t.proof({ accountId: 'alice', act: 'whitelist', tokenId: 'tok-1', amr: ['totp'], asset: 'ETH', address });
const withdrawalProof = (t: TestApp, address: string) =>
  t.proof({ accountId: 'alice', act: 'withdrawal', tokenId: 'tok-1', amr: ['totp'], withdrawalId: 'wd-1', asset: 'ETH', amount: '1', address });

describe('README walkthrough', () => {
  let t: TestApp;
  beforeAll(async () => {
    // As a fresh ledger is: every withdrawal and new address needs a proof of the second factor.
    t = await startTestApp({}, { secondFactor: 'required' });
  });
  afterAll(() => t.close());

  it('opens, funds, enforces the 24 h hold, follows a policy change, and settles a withdrawal', async () => {
    const opened = await t.service.post('/v1/accounts').send({ accountId: 'alice' }).expect(201);
    expect(opened.body).toEqual({ streamId: 'account-alice', revision: '0', position: expect.stringMatching(/^\d+$/), eventIds: [expect.any(String)] });

    await t.service.post('/v1/accounts/alice/deposits').send({ depositId: 'dep-1', asset: 'ETH', amount: '2.5' }).expect(201);
    await t.service.post('/v1/accounts/alice/two-factor-tokens').send({ tokenId: 'tok-1', method: 'totp' }).expect(201);
    await t.service.post('/v1/accounts/alice/whitelisted-addresses').send({ asset: 'ETH', address: ADDRESS_1, secondFactor: await whitelistProof(t, ADDRESS_1) }).expect(201);

    const onHold = await t.service.post('/v1/accounts/alice/withdrawals')
      .send({ withdrawalId: 'wd-1', asset: 'ETH', amount: '1', address: ADDRESS_1, twoFactorTokenId: 'tok-1', secondFactor: await withdrawalProof(t, ADDRESS_1) })
      .expect(422);
    expect(onHold.body).toMatchObject({ statusCode: 422, code: 'ADDRESS_ON_HOLD' });
    expect(onHold.body.message).toContain('withdrawable from');

    await t.admin.post('/v1/platform/withdrawal-policy').send({ newAddressHoldHours: 0 }).expect(201);
    await t.service.post('/v1/accounts/alice/whitelisted-addresses').send({ asset: 'ETH', address: ADDRESS_2, secondFactor: await whitelistProof(t, ADDRESS_2) }).expect(201);
    // The first address keeps the hold it was given when it was whitelisted.
    await t.service.post('/v1/accounts/alice/withdrawals')
      .send({ withdrawalId: 'wd-1', asset: 'ETH', amount: '1', address: ADDRESS_1, twoFactorTokenId: 'tok-1', secondFactor: await withdrawalProof(t, ADDRESS_1) })
      .expect(422);
    await t.service.post('/v1/accounts/alice/withdrawals')
      .send({ withdrawalId: 'wd-1', asset: 'ETH', amount: '1', address: ADDRESS_2, twoFactorTokenId: 'tok-1', secondFactor: await withdrawalProof(t, ADDRESS_2) })
      .expect(201);

    const held = await t.service.get('/v1/accounts/alice/balances').expect(200);
    expect(held.body.balances.ETH).toEqual({ available: '1.5', held: '1', withdrawn: '0', deposited: '2.5', reimbursed: '0' });

    await t.service.post('/v1/accounts/alice/withdrawals/wd-1/approve').send({}).expect(201);
    await t.service.post('/v1/accounts/alice/withdrawals/wd-1/settle').send({ txHash: '0x' + 'ab'.repeat(32) }).expect(201);

    const settled = await t.service.get('/v1/accounts/alice/balances').expect(200);
    expect(settled.body).toEqual({
      accountId: 'alice',
      balances: { ETH: { available: '1.5', held: '0', withdrawn: '1', deposited: '2.5', reimbursed: '0' } },
      position: '9',
    });
  });

  it('serves health and the OpenAPI document', async () => {
    const health = await t.service.get('/health').expect(200);
    expect(health.body).toMatchObject({ status: 'ok', eventStore: t.storeKind });
    const docs = await t.service.get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/v1/accounts', '/v1/accounts/{id}/withdrawals', '/v1/accounts/{id}/balances', '/v1/platform/withdrawals/halt', '/health']),
    );
  });
});
