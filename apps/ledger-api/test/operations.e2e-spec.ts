import { ApiKeyFile } from '@app/access';
import request from 'supertest';
import { freePort } from './support/server-process';
import { startTestApp, TEST_KEYS, type TestApp } from './support/test-app';

/** The operations surface (issue 14): readiness and liveness probes, metrics. */
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

const SCRAPE_TOKEN = 'scrape-token-0123456789abcdef';

/** The value of one sample in a Prometheus text exposition; undefined when it is absent. */
function sample(exposition: string, name: string, labels = ''): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ LEDGER_METRICS_TOKEN: SCRAPE_TOKEN, LEDGER_RATE_LIMIT_PER_SECOND: '5' });
  });

  afterAll(async () => {
    await t.close();
  });

  const scrape = () => t.anonymous.get('/metrics').set('Authorization', `Bearer ${SCRAPE_TOKEN}`).expect(200);

  it('refuses a scrape without the token, or with an API key instead of it', async () => {
    const refused = await t.anonymous.get('/metrics').expect(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(refused.body).toMatchObject({ statusCode: 401, message: expect.stringContaining('LEDGER_METRICS_TOKEN') });
    await t.auditor.get('/metrics').expect(401);
  });

  it('counts commands by route and status, their latency, group commits, fsync time, lag and rate-limit refusals', async () => {
    await t.service.post('/v1/accounts').send({ accountId: 'metrics-1' }).expect(201);
    await t.service.post('/v1/accounts/metrics-1/deposits').send({ depositId: 'dep 1', asset: 'ETH', amount: '1' }).expect(400);
    await t.anonymous.get('/v1/no-such-route').expect(404);
    // Five requests per second per key: the burst below goes over it.
    const statuses = await Promise.all(Array.from({ length: 8 }, () => t.finance.get('/v1/reimbursements').then((response) => response.status)));
    expect(statuses).toContain(429);
    const response = await scrape();
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.text;
    expect(sample(text, 'ledger_http_requests_total', 'method="POST",route="/v1/accounts",status="201"')).toBe(1);
    expect(sample(text, 'ledger_http_requests_total', 'method="POST",route="/v1/accounts/:id/deposits",status="400"')).toBe(1);
    expect(sample(text, 'ledger_http_requests_total', 'method="GET",route="(unmatched)",status="404"')).toBe(1);
    expect(sample(text, 'ledger_http_request_duration_seconds_count', 'method="POST",route="/v1/accounts"')).toBe(1);
    expect(sample(text, 'ledger_rate_limit_refusals_total', 'limit="key"')).toBe(statuses.filter((status) => status === 429).length);
    // The test app's own set-up command and the account opened: two commits at least, each with one append.
    expect(sample(text, 'ledger_event_store_group_commit_appends_count')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'ledger_event_store_fsync_seconds_count')).toBe(sample(text, 'ledger_event_store_group_commit_appends_count'));
    expect(sample(text, 'ledger_event_store_append_seconds_sum')).toBeGreaterThan(0);
    expect(sample(text, 'ledger_event_store_head_position')).toBe(Number(await t.head()));
    expect(sample(text, 'ledger_projection_lag_events', 'projection="balances"')).toBe(0);
    expect(sample(text, 'ledger_projection_lag_seconds', 'projection="balances"')).toBe(0);
    expect(sample(text, 'ledger_metrics_scrape_status_ok')).toBe(1);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});

describe('metrics on a port of their own, and key-file reloads', () => {
  it('serves /metrics open on LEDGER_METRICS_PORT (not on the API port) and counts reloads of the key file', async () => {
    const port = await freePort();
    // No LEDGER_API_KEYS: keys are generated into the data folder's key file, which the CLI changes.
    const t = await startTestApp({ LEDGER_METRICS_PORT: String(port), LEDGER_API_KEYS: '' });
    try {
      await t.anonymous.get('/metrics').expect(404);
      const created = await ApiKeyFile.inDataDir(t.config.dataDir).create('finance');
      await request(t.app.getHttpServer()).get('/v1/reimbursements').set('Authorization', `Bearer ${created.key}`).expect(200);
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(sample(text, 'ledger_api_key_file_reloads_total')).toBe(1);
      expect(sample(text, 'ledger_http_requests_total', 'method="GET",route="/v1/reimbursements",status="200"')).toBe(1);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('structured logs (LEDGER_LOG_FORMAT=json)', () => {
  it('writes one JSON object per line: request id, key id, route, status and duration, never the key', async () => {
    const lines: string[] = [];
    const t = await startTestApp({ LEDGER_LOG_FORMAT: 'json' }, { jsonLogs: { write: (line) => void lines.push(line) } });
    try {
      await t.service.post('/v1/accounts').set('X-Request-Id', 'trace-json-1').send({ accountId: 'logged-json' }).expect(201);
      await t.anonymous.get('/v1/accounts/logged-json/balances').set('X-Request-Id', 'trace-json-2').set('Authorization', 'Bearer wrong-key').expect(401);
      const records = lines.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records.length).toBeGreaterThanOrEqual(2);
      for (const record of records) expect(record).toMatchObject({ level: expect.any(String), time: expect.stringMatching(/Z$/), msg: expect.any(String) });
      const opened = records.find((record) => record.reqId === 'trace-json-1');
      expect(opened).toMatchObject({ context: 'HTTP', level: 'info', method: 'POST', route: '/v1/accounts', path: '/v1/accounts', status: 201, keyId: expect.stringMatching(/^k-[0-9a-f]{12}$/) });
      expect(opened!.durationMs).toEqual(expect.any(Number));
      expect(records.find((record) => record.reqId === 'trace-json-2')).toMatchObject({ route: '/v1/accounts/:id/balances', status: 401, keyId: null });
      expect(lines.join('')).not.toContain(TEST_KEYS.service);
    } finally {
      await t.close();
    }
  });
});
