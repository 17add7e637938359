import request from 'supertest';
import { ADDRESS_1, fundedAccount, startTestApp, TEST_KEYS, type TestApp } from './support/test-app';

/**
 * What an attacker or a careless client tried and the ledger used to accept: duplicate JSON keys, bodies that are not
 * JSON, as-of positions beyond the log, an idempotent retry with a trailing slash, and unlimited wrong keys.
 * Each refusal names the field and appends nothing.
 */
describe('hardening of the HTTP edge', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await fundedAccount(t, 'edge');
  });
  afterAll(() => t.close());

  const raw = (path: string, body: string, contentType = 'application/json') =>
    request(t.app.getHttpServer()).post(path).set('Authorization', `Bearer ${TEST_KEYS.service}`).set('Content-Type', contentType).send(body);

  describe('duplicate keys in a JSON body', () => {
    it('refuses {"amount":"1","amount":"1000"} with 400 naming amount, depositing nothing', async () => {
      const before = await t.head();
      const body = '{"depositId":"dep-dup","asset":"ETH","amount":"1","amount":"1000"}';
      const response = await raw('/v1/accounts/edge/deposits', body).expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, message: 'validation failed' });
      expect(response.body.errors).toEqual([{ field: 'amount', reasons: ['appears more than once in the body: send each field once'] }]);
      expect(await t.head()).toBe(before);
      const balances = await t.service.get('/v1/accounts/edge/balances').expect(200);
      expect(balances.body.balances.ETH.deposited).toBe('10');
    });

    it('names a duplicate inside a nested value by its path', async () => {
      const body = '{"enabled":true,"transactionTypes":["withdrawal"],"x":{"y":1,"y":2}}';
      const response = await raw('/v1/accounts/edge/mfa', body).expect(400);
      expect(response.body.errors[0].field).toBe('x.y');
    });

    it('accepts a body without duplicates, and treats an escaped spelling of a key as that key', async () => {
      const body = '{"depositId":"dep-esc","asset":"ETH","amount":"1"}';
      await raw('/v1/accounts/edge/deposits', body).expect(201);
      const response = await raw('/v1/accounts/edge/deposits', '{"depositId":"dep-2","asset":"ETH","amount":"1","amo\\u0075nt":"2"}').expect(400);
      expect(response.body.errors[0].field).toBe('amount');
    });
  });

  describe('bodies that are not JSON', () => {
    const cases: Array<[string, string, string, string]> = [
      ['text/plain on approve', '/v1/accounts/edge/withdrawals/w-none/approve', 'approve', 'text/plain'],
      ['a form on the anti-phishing code', '/v1/accounts/edge/anti-phishing-code', 'a=1', 'application/x-www-form-urlencoded'],
      ['a form on protection enrolment', '/v1/accounts/edge/protection/enrol', 'enrol=yes', 'application/x-www-form-urlencoded'],
      ['a form on a deposit', '/v1/accounts/edge/deposits', 'depositId=d9&asset=ETH&amount=1', 'application/x-www-form-urlencoded'],
    ];

    it.each(cases)('refuses %s with 415 and a JSON error, appending nothing', async (_label, path, body, type) => {
      const before = await t.head();
      const response = await raw(path, body, type).expect(415);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type', message: expect.stringContaining('application/json') });
      expect(response.body.errors[0].field).toBe('Content-Type');
      expect(await t.head()).toBe(before);
    });

    it('still accepts a route without fields sent with no body at all, or with an empty JSON object', async () => {
      await t.service.post('/v1/accounts/edge/anti-phishing-code').expect(201);
      await raw('/v1/accounts/edge/anti-phishing-code', '{}').expect(201);
      await raw('/v1/accounts/edge/anti-phishing-code', '{}', 'application/json; charset=utf-8').expect(201);
    });
  });

  it('refuses asOfPosition beyond the head with 400 naming it (the answer would change later)', async () => {
    const head = await t.head();
    const beyond = (head + 1000n).toString();
    const response = await t.finance.get(`/v1/accounts/edge/balances?asOfPosition=${beyond}`).expect(400);
    expect(response.body.errors).toEqual([{ field: 'asOfPosition', reasons: [`must be at most the log's head position, ${head.toString()} (got ${beyond})`] }]);
    const atHead = await t.finance.get(`/v1/accounts/edge/balances?asOfPosition=${head.toString()}`).expect(200);
    expect(atHead.body.position).toBe(head.toString());
  });

  it('answers an idempotent retry that adds a trailing slash as the replay it is, not 409', async () => {
    const body = { withdrawalId: 'w-slash', asset: 'ETH', amount: '1', address: ADDRESS_1, twoFactorTokenId: 'tok-1' };
    const first = await t.service.post('/v1/accounts/edge/withdrawals').set('Idempotency-Key', 'slash-1').send(body).expect(201);
    const before = await t.head();
    const retry = await t.service.post('/v1/accounts/edge/withdrawals/').set('Idempotency-Key', 'slash-1').send(body).expect(200);
    expect(retry.body).toEqual(first.body);
    expect(await t.head()).toBe(before);
  });

  it('limits wrong keys per client address before checking them: 429 with Retry-After, and a missing key is not counted', async () => {
    const wrong = (i: number) => request(t.app.getHttpServer()).get('/v1/accounts/edge/balances').set('Authorization', `Bearer wrong-key-${i}-0123456789abcdef`);
    for (let i = 0; i < 5; i += 1) await t.anonymous.get('/v1/accounts/edge/balances').expect(401);
    for (let i = 0; i < 20; i += 1) await wrong(i).expect(401);
    const limited = await wrong(20).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_FAILED_AUTHENTICATIONS' });
  });
});
