import { Ledger } from '@app/ledger';
import { ADDRESS_1, fundedAccount, startTestApp, TEST_KEYS, type TestApp } from './support/test-app';

const TX = '0x' + 'ef'.repeat(32);

/**
 * The read models over HTTP: they agree with folding the streams, page and filter, answer as of a past position
 * or instant, and the audit routes show history with its actors and verify its hash chain.
 */
describe('read models and audit over HTTP', () => {
  let t: TestApp;
  const positions: Record<string, string> = {};
  const snapshots: Record<string, unknown> = {};

  async function withdraw(accountId: string, withdrawalId: string, amount: string, settle: boolean): Promise<void> {
    await t.service.post(`/v1/accounts/${accountId}/withdrawals`)
      .send({ withdrawalId, asset: 'ETH', amount, address: ADDRESS_1, twoFactorTokenId: 'tok-1' }).expect(201);
    await t.service.post(`/v1/accounts/${accountId}/withdrawals/${withdrawalId}/approve`).send({}).expect(201);
    if (settle) await t.service.post(`/v1/accounts/${accountId}/withdrawals/${withdrawalId}/settle`).send({ txHash: TX }).expect(201);
  }

  beforeAll(async () => {
    t = await startTestApp();
    await t.admin.post('/v1/prices').send({ asset: 'ETH', usd: '3129' }).expect(201);
    for (const id of ['ra', 'rb', 'rc']) await fundedAccount(t, id, '10');
    await t.service.post('/v1/accounts/rb/deposits').send({ depositId: 'dep-btc', asset: 'BTC', amount: '1.5' }).expect(201);
    await withdraw('ra', 'w1', '2', true);
    const before = await t.service.get('/v1/accounts/ra/balances').expect(200);
    positions.beforeIncident = before.body.position;
    snapshots.beforeIncident = before.body.balances;
    t.clock.advance({ hours: 1 });
    positions.beforeIncidentTime = t.clock.now().toISO()!;
    t.clock.advance({ hours: 1 });
    await withdraw('rb', 'w1', '3', false);
    await t.admin.post('/v1/incidents').send({ incidentId: 'inc-r', title: 'test incident' }).expect(201);
    await t.admin.post('/v1/accounts/ra/withdrawals/w1/unauthorized').send({ incidentId: 'inc-r' }).expect(201);
    await t.admin.post('/v1/accounts/rb/withdrawals/w1/unauthorized').send({ incidentId: 'inc-r' }).expect(201);
    await t.admin.post('/v1/accounts/ra/reimbursements').send({ reimbursementId: 'rb-1', incidentId: 'inc-r', asset: 'ETH', amount: '0.5' }).expect(201);
    await t.admin.post('/v1/accounts/ra/reimbursements').send({ reimbursementId: 'rb-2', incidentId: 'inc-r', asset: 'ETH', amount: '1.5' }).expect(201);
  });
  afterAll(() => t.close());

  it('answers balances that equal a fold of each account stream, reading its own writes', async () => {
    const ledger = t.app.get(Ledger);
    for (const id of ['ra', 'rb', 'rc']) {
      const folded = await ledger.balances(id);
      const read = await t.finance.get(`/v1/accounts/${id}/balances`).expect(200);
      expect(read.body.balances).toEqual(folded!.balances);
    }
    const ra = await t.service.get('/v1/accounts/ra/balances').expect(200);
    expect(ra.body.balances.ETH).toEqual({ available: '10', held: '0', withdrawn: '2', deposited: '10', reimbursed: '2' });
  });

  it('shows the incident ledger, its loss totals in USD, and the reimbursements (JSON and CSV)', async () => {
    const ledger = await t.finance.get('/v1/incidents/inc-r/ledger').expect(200);
    expect(ledger.body.items.map((item: { accountId: string; status: string }) => [item.accountId, item.status])).toEqual([
      ['ra', 'reimbursed'],
      ['rb', 'prevented'],
    ]);
    const totals = await t.auditor.get('/v1/incidents/inc-r/loss-totals').expect(200);
    const eth = totals.body.assets.find((row: { asset: string }) => row.asset === 'ETH');
    expect(eth).toMatchObject({ lost: '2', prevented: '3', reimbursed: '2', outstanding: '0', lostUsd: '6258.00' });
    const json = await t.finance.get('/v1/reimbursements?incidentId=inc-r').expect(200);
    expect(json.body.items.map((row: { reimbursementId: string; amount: string }) => [row.reimbursementId, row.amount])).toEqual([
      ['rb-1', '0.5'],
      ['rb-2', '1.5'],
    ]);
    const csv = await t.finance.get('/v1/reimbursements?incidentId=inc-r&format=csv').expect(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('rb-1');
  });

  it('pages with a cursor, filters, and refuses a page over 1000 naming the parameter', async () => {
    const first = await t.finance.get('/v1/reimbursements?limit=1').expect(200);
    expect(first.body.items).toHaveLength(1);
    const second = await t.finance.get(`/v1/reimbursements?limit=1&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.items[0].reimbursementId).not.toBe(first.body.items[0].reimbursementId);
    const filtered = await t.finance.get('/v1/incidents/inc-r/ledger?accountId=rb').expect(200);
    expect(filtered.body.items).toHaveLength(1);
    // An unknown incident is 404 on its ledger as on its loss totals, not an empty page.
    for (const route of ['ledger', 'loss-totals']) {
      const unknown = await t.finance.get(`/v1/incidents/nope/${route}`).expect(404);
      expect(unknown.body).toMatchObject({ code: 'INCIDENT_NOT_FOUND', message: 'the incident does not exist' });
    }
    const tooMany = await t.finance.get('/v1/reimbursements?limit=1001').expect(400);
    expect(tooMany.body.errors[0].field).toBe('limit');
    const badAsset = await t.finance.get('/v1/reimbursements?asset=DOGGO').expect(400);
    expect(badAsset.body.errors[0].field).toBe('asset');
  });

  it('answers as of a past position and a past instant as the ledger stood then', async () => {
    const atPosition = await t.finance.get(`/v1/accounts/ra/balances?asOfPosition=${positions.beforeIncident}`).expect(200);
    expect(atPosition.body.balances).toEqual(snapshots.beforeIncident);
    const atTime = await t.finance.get(`/v1/accounts/ra/balances?asOf=${encodeURIComponent(positions.beforeIncidentTime!)}`).expect(200);
    expect(atTime.body.balances).toEqual(snapshots.beforeIncident);
    await t.finance.get(`/v1/incidents/inc-r/loss-totals?asOfPosition=${positions.beforeIncident}`).expect(404);
    await t.finance.get('/v1/accounts/ra/balances?asOf=yesterday').expect(400);
  });

  it("shows history with each event's actor (key id and role, never the key) and pages the global log", async () => {
    const stream = await t.auditor.get('/v1/audit/streams/account-ra?limit=2').expect(200);
    expect(stream.body.events).toHaveLength(2);
    expect(stream.body.next).toBe('2');
    expect(stream.body.events[0].metadata.actor).toEqual({ id: expect.stringMatching(/^k-[0-9a-f]{12}$/), role: 'service' });
    expect(stream.body.events[0].metadata).toMatchObject({ prevHash: '0'.repeat(64), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    for (const key of Object.values(TEST_KEYS)) expect(JSON.stringify(stream.body)).not.toContain(key);
    const log = await t.auditor.get('/v1/audit/events?fromPosition=1&limit=5').expect(200);
    expect(log.body.events.map((event: { position: string }) => event.position)).toEqual(['1', '2', '3', '4', '5']);
    await t.finance.get('/v1/audit/events').expect(403);
  });

  it('verifies a clean history, then names the event whose stored data was changed', async () => {
    const clean = await t.auditor.get('/v1/audit/verify').expect(200);
    expect(clean.body.ok).toBe(true);
    const typo = await t.auditor.get('/v1/audit/verify?stream=account-nobody').expect(404);
    expect(typo.body).toMatchObject({ code: 'STREAM_NOT_FOUND', message: expect.stringContaining('stream account-nobody does not exist') });
    await t.tamperEventData('account-rc', 1, '"10"', '"90"');
    const tampered = await t.auditor.get('/v1/audit/verify').expect(200);
    expect(tampered.body).toMatchObject({ ok: false, firstFailure: { streamId: 'account-rc', revision: '1', reason: 'HASH_MISMATCH' }, failureCount: 1 });
    expect(tampered.body.failures).toHaveLength(1);
  });

  it('reports each projection and its lag in /health', async () => {
    const health = await t.anonymous.get('/health').expect(200);
    expect(health.body.projections.map((p: { name: string }) => p.name).sort()).toEqual(
      ['balances', 'incident-ledger', 'loss-totals', 'protection-claims', 'reimbursements', 'risk-alerts'],
    );
    for (const projection of health.body.projections) expect(projection).toMatchObject({ lagEvents: '0', lagSeconds: 0 });
  });
});
