import { fundedAccount, startTestApp, type TestApp } from './support/test-app';

/**
 * Bad input gets 400 naming the field, no stack trace, and appends nothing (issue: ledger core, "Done when").
 */
describe('input validation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await fundedAccount(t, 'val');
  });
  afterAll(() => t.close());

  const deposit = (amount: unknown, extra: Record<string, unknown> = {}) => ({ depositId: 'dep-x', asset: 'ETH', amount, ...extra });

  const badDeposits: Array<[string, unknown, string]> = [
    ['an amount as a JSON number', deposit(1.5), 'amount'],
    ['an amount with an exponent', deposit('1e3'), 'amount'],
    ['a negative amount', deposit('-1'), 'amount'],
    ['a zero amount', deposit('0'), 'amount'],
    ['a hex amount', deposit('0x10'), 'amount'],
    ['an amount padded with spaces', deposit(' 1 '), 'amount'],
    ['more decimals than the asset has', { depositId: 'dep-x', asset: 'USDC', amount: '1.0000001' }, 'amount'],
    ['more decimals than ETH has', deposit('0.0000000000000000001'), 'amount'],
    ['an absurdly long amount', deposit('1'.repeat(500)), 'amount'],
    ['an unknown asset', { depositId: 'dep-x', asset: 'DOGGO', amount: '1' }, 'asset'],
    ['an id with spaces', { depositId: 'dep x', asset: 'ETH', amount: '1' }, 'depositId'],
    ['an id of 200 characters', { depositId: 'd'.repeat(200), asset: 'ETH', amount: '1' }, 'depositId'],
    ['a missing field', { asset: 'ETH', amount: '1' }, 'depositId'],
    ['an extra field', deposit('1', { note: 'hi' }), 'note'],
    ['a __proto__ key', JSON.parse('{"depositId":"dep-x","asset":"ETH","amount":"1","__proto__":{"admin":true}}'), '__proto__'],
    ['a null amount', deposit(null), 'amount'],
  ];

  it.each(badDeposits)('refuses %s with 400 naming the field, appending nothing', async (_label, body, field) => {
    const before = await t.head();
    const response = await t.service.post('/v1/accounts/val/deposits').send(body as object).expect(400);
    expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    expect(JSON.stringify(response.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(await t.head()).toBe(before);
  });

  it('names every failing field at once', async () => {
    const response = await t.service.post('/v1/accounts/val/withdrawals').send({ amount: 5 }).expect(400);
    const fields = response.body.errors.map((error: { field: string }) => error.field).sort();
    expect(fields).toEqual(['address', 'amount', 'asset', 'twoFactorTokenId', 'withdrawalId']);
  });

  const rawBodies: Array<[string, string, number]> = [
    ['malformed JSON', '{"depositId": "dep-x", ', 400],
    ['null', 'null', 400],
    ['an array', '[{"depositId":"dep-x","asset":"ETH","amount":"1"}]', 400],
    ['a string', '"hello"', 400],
  ];

  it.each(rawBodies)('refuses %s as a body with %i', async (_label, raw, status) => {
    const before = await t.head();
    const response = await t.service.post('/v1/accounts/val/deposits').set('Content-Type', 'application/json').send(raw).expect(status);
    expect(response.body).toMatchObject({ statusCode: status });
    expect(response.body.stack).toBeUndefined();
    expect(await t.head()).toBe(before);
  });

  it('refuses a 2 MB body with 413', async () => {
    const before = await t.head();
    const huge = JSON.stringify(deposit('1', { pad: 'x'.repeat(2 * 1024 * 1024) }));
    const response = await t.service.post('/v1/accounts/val/deposits').set('Content-Type', 'application/json').send(huge);
    expect([400, 413]).toContain(response.status);
    expect(response.status).toBe(413);
    expect(await t.head()).toBe(before);
  });

  it('refuses a bad id in the path with 400 naming it', async () => {
    const response = await t.service.post('/v1/accounts/bad%20id/deposits').send(deposit('1')).expect(400);
    expect(response.body.errors[0].field).toBe('id');
  });

  it('refuses a malformed Idempotency-Key with 400', async () => {
    const response = await t.service.post('/v1/accounts/val/deposits').set('Idempotency-Key', 'has spaces in it').send(deposit('1')).expect(400);
    expect(response.body.errors[0].field).toBe('Idempotency-Key');
  });

  it('refuses an out-of-range hold policy and a non-integer one', async () => {
    for (const hours of [-1, 721, 1.5, '24']) {
      const response = await t.admin.post('/v1/platform/withdrawal-policy').send({ newAddressHoldHours: hours }).expect(400);
      expect(response.body.errors[0].field).toBe('newAddressHoldHours');
    }
  });

  it('answers 404 for an unknown account, on commands and on balances', async () => {
    const before = await t.head();
    const command = await t.service.post('/v1/accounts/nobody/deposits').send(deposit('1')).expect(404);
    expect(command.body.code).toBe('ACCOUNT_NOT_FOUND');
    await t.service.get('/v1/accounts/nobody/balances').expect(404);
    expect(await t.head()).toBe(before);
  });

  it('answers 404 for an unknown withdrawal', async () => {
    const response = await t.service.post('/v1/accounts/val/withdrawals/nope/approve').send({}).expect(404);
    expect(response.body.code).toBe('WITHDRAWAL_NOT_FOUND');
  });
});
