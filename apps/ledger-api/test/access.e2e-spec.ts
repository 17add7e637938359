import type { Role } from '@app/access';
import { fundedAccount, startTestApp, TEST_KEYS, type TestApp } from './support/test-app';

const ROLES: Role[] = ['service', 'admin', 'auditor', 'finance'];

/**
 * The access matrix of the access-control issue, written out independently of the routes' own declarations:
 * service sends account commands and reads balances; admin sends platform, incident and price commands; auditor
 * reads the audit routes and every projection; finance reads projections but not the raw log. Risk alerts: admin
 * decides on them and sets the monitor's rules, admin and auditor read them.
 */
function expectedRoles(method: string, path: string): Role[] | 'public' | undefined {
  if (path === '/console' || path.startsWith('/console/') || path === '/health' || path === '/health/live' || path === '/health/ready' || path === '/docs' || path.startsWith('/docs/') || path === '/docs-json' || path === '/docs-yaml') return 'public';
  if (method === 'POST') {
    if (/^\/v1\/(platform|incidents|prices|risk)(\/|$)/.test(path)) return ['admin'];
    if (/\/(unauthorized|reimbursements)$/.test(path)) return ['admin'];
    if (path.startsWith('/v1/accounts')) return ['service'];
    return undefined;
  }
  if (method === 'GET') {
    if (path.startsWith('/v1/audit/')) return ['auditor'];
    if (path === '/v1/risk/alerts') return ['admin', 'auditor'];
    if (path === '/v1/accounts/:id/balances') return ['service', 'finance', 'auditor'];
    if (/^\/v1\/(incidents\/:id\/(ledger|loss-totals)|reimbursements|protection-claims|projections)/.test(path)) return ['finance', 'auditor'];
  }
  return undefined;
}

function registeredRoutes(t: TestApp): Array<{ method: string; path: string }> {
  return [...t.routes];
}

describe('access control', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LEDGER_RATE_LIMIT_PER_SECOND: '50' });
  });
  afterAll(() => t.close());

  it('answers every registered route as the role matrix says, for every role and for no key', async () => {
    const routes = registeredRoutes(t);
    expect(routes.length).toBeGreaterThan(20);
    const unexpected = routes.filter((route) => expectedRoles(route.method, route.path) === undefined);
    expect(unexpected).toEqual([]);
    const mismatches: string[] = [];
    for (const { method, path } of routes) {
      const expected = expectedRoles(method, path)!;
      const url = path.replace(/:[A-Za-z]+/g, 'x1');
      const call = (client: TestApp['service']) => (method === 'GET' ? client.get(url) : client.post(url).send({}));
      const denied = (status: number) => status === 401 || status === 403;
      const anonymous = (await call(t.anonymous)).status;
      if (expected === 'public') {
        if (denied(anonymous)) mismatches.push(`${method} ${path}: public, but ${anonymous} without a key`);
        continue;
      }
      if (anonymous !== 401) mismatches.push(`${method} ${path}: ${anonymous} without a key, expected 401`);
      for (const role of ROLES) {
        const status = (await call(t.as(role))).status;
        if (expected.includes(role) && denied(status)) mismatches.push(`${method} ${path}: ${role} refused with ${status}`);
        if (!expected.includes(role) && status !== 403) mismatches.push(`${method} ${path}: ${role} got ${status}, expected 403`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('refuses a missing or unknown key with 401 and a wrong role with 403, appending nothing', async () => {
    const before = await t.head();
    const body = { accountId: 'intruder' };
    const none = await t.anonymous.post('/v1/accounts').send(body).expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    await t.anonymous.post('/v1/accounts').set('Authorization', 'Bearer not-a-key-of-this-ledger-000000').send(body).expect(401);
    await t.anonymous.post('/v1/accounts').set('Authorization', `Basic ${TEST_KEYS.service}`).send(body).expect(401);
    const wrongRole = await t.finance.post('/v1/accounts').send(body).expect(403);
    expect(wrongRole.body.message).toContain('finance');
    await t.service.post('/v1/platform/withdrawals/halt').send({ reason: 'nope' }).expect(403);
    await t.admin.post('/v1/accounts').send(body).expect(403);
    expect(await t.head()).toBe(before);
  });

  it("names the key's id and role on every event, never the key", async () => {
    await fundedAccount(t, 'acl-actor');
    const events = [];
    for await (const event of t.store.readStream('account-acl-actor')) events.push(event);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      expect(event.metadata.actor).toEqual({ id: expect.stringMatching(/^k-[0-9a-f]{12}$/), role: 'service' });
      const text = JSON.stringify({ data: event.data, metadata: event.metadata });
      for (const key of Object.values(TEST_KEYS)) expect(text).not.toContain(key);
    }
  });

  it('answers a burst far above the rate limit with only 200 and 429 (with Retry-After), and stays responsive', async () => {
    await fundedAccount(t, 'acl-burst');
    const burst = await Promise.all(Array.from({ length: 300 }, () => t.finance.get('/v1/accounts/acl-burst/balances')));
    const statuses = new Set(burst.map((response) => response.status));
    expect([...statuses].sort()).toEqual([200, 429]);
    const limited = burst.find((response) => response.status === 429)!;
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The ledger's own error shape, not the framework's.
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', code: 'RATE_LIMITED' });
    expect(limited.body.message).toMatch(/^more than \d+ requests per second with this API key: retry after \d+ s$/);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    // Another key is not limited by this one's burst, and open routes still answer.
    await t.auditor.get('/v1/accounts/acl-burst/balances').expect(200);
    await t.anonymous.get('/health').expect(200);
  });

  it('sends security headers and a request id, and no CORS headers by default', async () => {
    const response = await t.service.get('/v1/accounts/nobody/balances').set('Origin', 'https://evil.example').set('X-Request-Id', 'trace-123');
    expect(response.headers['x-request-id']).toBe('trace-123');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const generated = await t.anonymous.get('/health');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
