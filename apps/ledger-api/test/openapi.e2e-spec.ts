import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createClient from 'openapi-fetch';
import type { components, paths } from '../../ledger-console/src/ledger-api';
import { ADDRESS_1, ADDRESS_2, startTestApp, TEST_KEYS, type TestApp } from './support/test-app';

const ROOT = join(__dirname, '../../..');
/**
 * The typed client's declarations, generated from the served document and committed (the web console uses them too),
 * so that `npm run typecheck` checks the walkthrough below and the console against the API as it is.
 */
const CLIENT_TYPES = join(ROOT, 'apps/ledger-console/src/ledger-api.d.ts');
const TOOL_ENV = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };

/** Runs a package's command-line tool with Node; throws with its output when it exits non-zero. */
function runTool(bin: string, args: string[]): string {
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', bin), ...args], { cwd: ROOT, env: TOOL_ENV, encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`${bin} ${args[0]} exited ${run.status}:\n${output}`);
  return output;
}

type Operation = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }>; parameters?: Array<{ name: string; in: string }>; security?: unknown[] };

describe('OpenAPI document', () => {
  let t: TestApp;
  let dir: string;
  let documentPath: string;
  let document: { paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    // As a fresh ledger is (proofs required), with the risk monitor on: the README's walkthrough as written.
    t = await startTestApp({ LEDGER_RISK_MONITOR: 'on' }, { secondFactor: 'required' });
    dir = mkdtempSync(join(tmpdir(), 'ledger-openapi-'));
    document = (await t.anonymous.get('/docs-json').expect(200)).body;
    documentPath = join(dir, 'openapi.json');
    writeFileSync(documentPath, JSON.stringify(document));
  });

  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes @redocly/cli lint (recommended rules, redocly.yaml) with no error or warning', () => {
    const output = runTool('@redocly/cli/bin/cli.js', ['lint', documentPath, '--config', join(ROOT, 'redocly.yaml'), '--format', 'summary']);
    expect(output).toContain('Your API description is valid');
    expect(output).not.toMatch(/You have \d+ warnings?/);
  });

  it('documents, on every route, its success and every error the edge can answer, each with a schema', () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ path, method, operation })));
    expect(operations.length).toBeGreaterThan(40);
    for (const { path, method, operation } of operations) {
      const codes = Object.keys(operation.responses);
      const where = `${method.toUpperCase()} ${path}`;
      const isPublic = (operation.security ?? []).length === 0;
      const expected = [method === 'post' ? '201' : '200', '429', ...(isPublic ? [] : ['401', '403']), ...(method === 'post' ? ['200', '400', '409', '413', '415', '422', '503'] : [])];
      if (path.includes('{')) expected.push('404');
      expect({ where, missing: expected.filter((code) => !codes.includes(code)) }).toEqual({ where, missing: [] });
      for (const code of codes) expect({ where, code, schema: operation.responses[code]!.content?.['application/json']?.schema !== undefined }).toEqual({ where, code, schema: true });
      if (method === 'post') expect({ where, idempotencyKey: operation.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key') }).toEqual({ where, idempotencyKey: true });
      if (!path.startsWith('/health')) expect({ where, security: operation.security }).toEqual({ where, security: [{ bearer: [] }] });
    }
    const reimbursements = document.paths['/v1/reimbursements']!.get!;
    expect(reimbursements.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['limit', 'cursor', 'incidentId', 'accountId', 'asset', 'format']));
  });

  it("generates, with openapi-typescript, the typed client declarations committed in the console's sources", () => {
    const generated = join(dir, 'ledger-api.d.ts');
    runTool('openapi-typescript/bin/cli.js', [documentPath, '--output', generated]);
    const fresh = readFileSync(generated, 'utf8');
    if (process.env.UPDATE_OPENAPI_CLIENT === '1') writeFileSync(CLIENT_TYPES, fresh);
    // Out of date: run `UPDATE_OPENAPI_CLIENT=1 npx jest apps/ledger-api/test/openapi.e2e-spec.ts` and commit the file.
    expect(readFileSync(CLIENT_TYPES, 'utf8')).toBe(fresh);
  });

  it('runs the README walkthrough through the typed client (openapi-fetch), without a type cast', async () => {
    await t.app.listen(0, '127.0.0.1');
    const baseUrl = await t.app.getUrl();
    const as = (key: string | null) => createClient<paths>({ baseUrl, headers: key === null ? {} : { Authorization: `Bearer ${key}` } });
    const service = as(TEST_KEYS.service);
    const admin = as(TEST_KEYS.admin);
    const alice = { path: { id: 'alice' } };
    const whitelistProof = (address: string) => t.proof({ accountId: 'alice', act: 'whitelist', tokenId: 'tok-1', amr: ['totp'], asset: 'ETH', address });
    const withdrawalProof = (address: string) =>
      t.proof({ accountId: 'alice', act: 'withdrawal', tokenId: 'tok-1', amr: ['totp'], withdrawalId: 'wd-1', asset: 'ETH', amount: '1', address });

    const opened = await service.POST('/v1/accounts', { body: { accountId: 'alice' } });
    expect(opened.response.status).toBe(201);
    expect(opened.data).toEqual({ streamId: 'account-alice', revision: '0', position: '1', eventIds: [expect.any(String)] });
    expect((await service.POST('/v1/accounts/{id}/deposits', { params: alice, body: { depositId: 'dep-1', asset: 'ETH', amount: '2.5' } })).data?.position).toBe('2');
    expect((await service.POST('/v1/accounts/{id}/two-factor-tokens', { params: alice, body: { tokenId: 'tok-1', method: 'totp' } })).data?.revision).toBe('2');
    const whitelisted = await service.POST('/v1/accounts/{id}/whitelisted-addresses', { params: alice, body: { asset: 'ETH', address: ADDRESS_1, secondFactor: await whitelistProof(ADDRESS_1) } });
    expect(whitelisted.data?.position).toBe('4');

    const withdrawal: Omit<components['schemas']['RequestWithdrawalDto'], 'address'> = { withdrawalId: 'wd-1', asset: 'ETH', amount: '1', twoFactorTokenId: 'tok-1' };
    const unproven = await service.POST('/v1/accounts/{id}/withdrawals', { params: alice, body: { ...withdrawal, address: ADDRESS_1 } });
    expect(unproven.response.status).toBe(422);
    expect(unproven.error?.code).toBe('SECOND_FACTOR_REQUIRED');
    const onHold = await service.POST('/v1/accounts/{id}/withdrawals', { params: alice, body: { ...withdrawal, address: ADDRESS_1, secondFactor: await withdrawalProof(ADDRESS_1) } });
    expect(onHold.error?.code).toBe('ADDRESS_ON_HOLD');

    expect((await admin.POST('/v1/platform/withdrawal-policy', { body: { newAddressHoldHours: 0 } })).data).toMatchObject({ streamId: 'platform', revision: '0', position: '5' });
    await service.POST('/v1/accounts/{id}/whitelisted-addresses', { params: alice, body: { asset: 'ETH', address: ADDRESS_2, secondFactor: await whitelistProof(ADDRESS_2) } });
    const requested = await service.POST('/v1/accounts/{id}/withdrawals', { params: alice, body: { ...withdrawal, address: ADDRESS_2, secondFactor: await withdrawalProof(ADDRESS_2) } });
    expect(requested.data).toMatchObject({ revision: '5', position: '7' });

    // The risk monitor's job runs once a second: wait for its alert on the fresh address.
    let alertId: string | undefined;
    for (let attempt = 0; attempt < 50 && alertId === undefined; attempt += 1) {
      alertId = (await admin.GET('/v1/risk/alerts', { params: { query: { status: 'raised' } } })).data?.items[0]?.alertId;
      if (alertId === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(alertId).toBe('fresh-address-withdrawal-7');

    const wd1 = { path: { id: 'alice', wid: 'wd-1' } };
    expect((await service.POST('/v1/accounts/{id}/withdrawals/{wid}/approve', { params: wd1, body: {} })).data?.position).toBe('9');
    const txHash = '0x9f2c4a0b7d1e3f5a6b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c';
    expect((await service.POST('/v1/accounts/{id}/withdrawals/{wid}/settle', { params: wd1, body: { txHash } })).data?.position).toBe('10');
    const balances = await service.GET('/v1/accounts/{id}/balances', { params: alice });
    expect(balances.data).toEqual({ accountId: 'alice', balances: { ETH: { available: '1.5', held: '0', withdrawn: '1', deposited: '2.5', reimbursed: '0' } }, position: '10' });

    // The README also sends the amount as a JSON number; the typed client cannot (amount is a string): the id is refused alone.
    const invalid = await service.POST('/v1/accounts/{id}/deposits', { params: alice, body: { depositId: 'dep 2', asset: 'ETH', amount: '1000' } });
    expect(invalid.response.status).toBe(400);
    // The error is a union of the route's error bodies; only the 400's has `errors`.
    const failing = invalid.error !== undefined && 'errors' in invalid.error ? invalid.error.errors.map((error) => error.field) : [];
    expect(failing).toEqual(['depositId']);
    const again = await service.POST('/v1/accounts/{id}/withdrawals/{wid}/settle', { params: wd1, body: { txHash } });
    expect(again.error?.code).toBe('WITHDRAWAL_ALREADY_FINAL');
    const forbidden = await service.POST('/v1/platform/withdrawal-policy', { body: { newAddressHoldHours: 24 } });
    expect(forbidden.response.status).toBe(403);
    expect(forbidden.error?.message).toBe('the service role may not use this route (allowed: admin)');
    const anonymous = await as(null).GET('/v1/accounts/{id}/balances', { params: alice });
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.error?.message).toBe('an API key is required: Authorization: Bearer <key>');
    expect((await admin.POST('/v1/platform/withdrawal-policy', { body: { newAddressHoldHours: 24 } })).data).toMatchObject({ revision: '1', position: '11' });
  });
});
