import { startTestApp, type TestApp } from './support/test-app';

/** The operations surface (issue 14): readiness and liveness probes. */
describe('readiness and liveness', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('is live without touching a store, and ready once the store answers and the projections have caught up', async () => {
    await t.anonymous.get('/health/live').expect(200, { status: 'live' });
    await t.service.post('/v1/accounts').send({ accountId: 'ready-1' }).expect(201);
    // The read waits for the projections, so after it every projection is at the head.
    await t.service.get('/v1/accounts/ready-1/balances').expect(200);
    const ready = await t.anonymous.get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({ status: 'ready', reasons: [], headPosition: String(await t.head()), maxLagEvents: 10_000, maxLagSeconds: 30 });
    expect(ready.body.projections.length).toBeGreaterThan(3);
  });

  it('is not ready (503, with the reasons) while projections are further behind than configured', async () => {
    // No projector in this process: every projection stays behind the event the test app appends at start.
    const behind = await startTestApp({ LEDGER_PROJECTOR: 'off', LEDGER_READY_MAX_LAG_EVENTS: '0' });
    try {
      await behind.anonymous.get('/health/live').expect(200);
      const response = await behind.anonymous.get('/health/ready').expect(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body.status).toBe('not-ready');
      expect(response.body.reasons).toContain('balances is 1 events behind (at most 0)');
    } finally {
      await behind.close();
    }
  });

  it('is not ready when the event store does not answer', async () => {
    const closed = await startTestApp();
    try {
      await closed.store.close();
      const response = await closed.anonymous.get('/health/ready').expect(503);
      expect(response.body.reasons.join(' ')).toMatch(/closed/i);
      await closed.anonymous.get('/health/live').expect(200);
    } finally {
      await closed.close();
    }
  });
});
