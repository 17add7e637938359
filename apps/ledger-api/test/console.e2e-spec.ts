import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CONSOLE_CSP, consoleDirectory } from '../src/http/console';
import { ADDRESS_1, fundedAccount, startTestApp, TEST_KEYS, type TestApp } from './support/test-app';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it): playwright-core downloads no browser. */
const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(__dirname, '../../..');
/** Every run writes a screenshot of each view here; with UPDATE_CONSOLE_SCREENSHOTS=1 also into docs/, for the README. */
const SCREENSHOTS = [join(ROOT, 'dist/console-screenshots'), ...(process.env.UPDATE_CONSOLE_SCREENSHOTS === '1' ? [join(ROOT, 'docs/console')] : [])];
const TX = '0x' + 'cd'.repeat(32);
const BTC_ADDRESS = 'bc1qledgerconsoletest000000000000000000';

async function withdraw(t: TestApp, accountId: string, withdrawalId: string, amount: string, settle: boolean): Promise<void> {
  await t.service.post(`/v1/accounts/${accountId}/withdrawals`).send({ withdrawalId, asset: 'ETH', amount, address: ADDRESS_1, twoFactorTokenId: 'tok-1' }).expect(201);
  await t.service.post(`/v1/accounts/${accountId}/withdrawals/${withdrawalId}/approve`).send({}).expect(201);
  if (settle) await t.service.post(`/v1/accounts/${accountId}/withdrawals/${withdrawalId}/settle`).send({ txHash: TX }).expect(201);
}

/** An incident with losses, a prevented withdrawal, reimbursements and two protection claims (one approved, one denied). */
async function seed(t: TestApp): Promise<{ beforeIncident: string }> {
  await t.admin.post('/v1/prices').send({ asset: 'ETH', usd: '3129.5' }).expect(201);
  await t.admin.post('/v1/prices').send({ asset: 'BTC', usd: '42150.25' }).expect(201);
  for (const id of ['alice', 'bob', 'carol']) await fundedAccount(t, id, '10');
  await t.service.post('/v1/accounts/bob/deposits').send({ depositId: 'dep-btc', asset: 'BTC', amount: '0.5' }).expect(201);
  await t.service.post('/v1/accounts/bob/whitelisted-addresses').send({ asset: 'BTC', address: BTC_ADDRESS }).expect(201);
  await t.service.post('/v1/accounts/carol/protection/enrol').send({}).expect(201);
  await t.service.post('/v1/accounts/carol/mfa').send({ enabled: true, transactionTypes: ['withdrawal', 'whitelist', 'transfer', 'trade'] }).expect(201);
  await t.service.post('/v1/accounts/carol/anti-phishing-code').send({}).expect(201);
  t.clock.advance({ hours: 24 * 30 });
  const before = await t.finance.get('/v1/accounts/alice/balances').expect(200);
  await withdraw(t, 'alice', 'w1', '2', true);
  await withdraw(t, 'bob', 'w1', '3', false);
  await withdraw(t, 'carol', 'w1', '1.25', true);
  await withdraw(t, 'carol', 'w2', '0.5', true);
  await t.service.post('/v1/accounts/bob/withdrawals').send({ withdrawalId: 'w2', asset: 'BTC', amount: '0.2', address: BTC_ADDRESS, twoFactorTokenId: 'tok-1' }).expect(201);
  await t.service.post('/v1/accounts/bob/withdrawals/w2/approve').send({}).expect(201);
  await t.service.post('/v1/accounts/bob/withdrawals/w2/settle').send({ txHash: TX }).expect(201);
  await t.admin.post('/v1/incidents').send({ incidentId: 'inc-1', title: 'January account takeovers' }).expect(201);
  for (const [account, withdrawal] of [['alice', 'w1'], ['bob', 'w1'], ['bob', 'w2'], ['carol', 'w1'], ['carol', 'w2']]) {
    await t.admin.post(`/v1/accounts/${account}/withdrawals/${withdrawal}/unauthorized`).send({ incidentId: 'inc-1' }).expect(201);
  }
  await t.admin.post('/v1/accounts/alice/reimbursements').send({ reimbursementId: 'rb-1', incidentId: 'inc-1', asset: 'ETH', amount: '1.5' }).expect(201);
  await t.admin.post('/v1/accounts/alice/reimbursements').send({ reimbursementId: 'rb-2', incidentId: 'inc-1', asset: 'ETH', amount: '0.5' }).expect(201);
  const claim = { policeReportCopyProvided: true, questionnaireCompleted: true, deviceJailbroken: false };
  await t.service.post('/v1/accounts/carol/protection/claims').send({ claimId: 'c1', withdrawalId: 'w1', policeReportReference: 'PR-2201', ...claim }).expect(201);
  await t.service.post('/v1/accounts/carol/protection/claims').send({ claimId: 'c2', withdrawalId: 'w2', policeReportReference: null, ...claim, deviceJailbroken: true }).expect(201);
  return { beforeIncident: before.body.position };
}

// A real browser: each test drives several views.
jest.setTimeout(30_000);

describe('web console (/console, in Chromium)', () => {
  let t: TestApp;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let baseUrl: string;
  let beforeIncident: string;
  const violations: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    if (consoleDirectory() === null) throw new Error('the console is not built: run `npm run build` first (`npm test` does)');
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    t = await startTestApp();
    ({ beforeIncident } = await seed(t));
    await t.app.listen(0, '127.0.0.1');
    baseUrl = await t.app.getUrl();
    profile = mkdtempSync(join(tmpdir(), 'ledger-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      acceptDownloads: true,
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') violations.push(message.text());
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(baseUrl) && !request.url().startsWith('blob:')) foreignRequests.push(request.url());
    });
    for (const dir of SCREENSHOTS) mkdirSync(dir, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await t?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  /**
   * Waits until the page shows what is expected. Not page.waitForFunction: its string form is an eval, which the
   * console's page policy forbids, as it should.
   */
  async function waitFor<T>(read: () => Promise<T>, expected: T, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!Object.is(await read(), expected) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await read()).toBe(expected);
  }

  async function screenshot(name: string): Promise<void> {
    for (const dir of SCREENSHOTS) await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  }

  async function signIn(key: string): Promise<void> {
    await page.goto(`${baseUrl}/console/`);
    await page.fill('input[name=apiKey]', key);
    await page.click('button[type=submit]');
  }

  async function open(view: string): Promise<void> {
    await page.click(`nav button[data-view=${view}]`);
  }

  it('serves its page with a policy that allows only its own assets, and refuses a bad key with 401', async () => {
    const response = await page.goto(`${baseUrl}/console/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
    await screenshot('sign-in');
    await signIn('not-a-key-of-this-ledger-0000000');
    await expect(page.locator('[data-testid=error]').textContent()).resolves.toBe('401: unknown API key');
  });

  it('shows finance the incident ledger with filters, loss totals with a chart, reimbursements and claims', async () => {
    await signIn(TEST_KEYS.finance);
    await expect(page.locator('[data-testid=role]').textContent()).resolves.toBe('finance');
    expect(await page.locator('nav button[data-view=streams]').count()).toBe(0);
    await screenshot('status');

    await open('incident-ledger');
    await page.fill('input[name=incidentId]', 'inc-1');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=incident-ledger] tbody tr');
    expect(await page.locator('[data-testid=incident-ledger] tbody tr').count()).toBe(3);
    await page.selectOption('select[name=status]', 'outstanding');
    await page.click('button[type=submit]');
    await waitFor(() => page.locator('[data-testid=incident-ledger] tbody tr').count(), 2);
    await page.selectOption('select[name=asset]', 'BTC');
    await page.click('button[type=submit]');
    await waitFor(() => page.locator('[data-testid=incident-ledger] tbody tr').count(), 1);
    await expect(page.locator('[data-testid=incident-ledger] tbody tr td').first().textContent()).resolves.toBe('bob');
    await page.selectOption('select[name=asset]', '');
    await page.selectOption('select[name=status]', '');
    await page.click('button[type=submit]');
    await waitFor(() => page.locator('[data-testid=incident-ledger] tbody tr').count(), 3);
    await screenshot('incident-ledger');

    await open('loss-totals');
    await page.fill('input[name=incidentId]', 'inc-1');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=loss-chart] rect');
    expect(await page.locator('[data-testid=loss-totals] tbody tr').count()).toBe(2);
    const totals = await page.locator('[data-testid=loss-totals] tbody tr').nth(1).locator('td').allTextContents();
    // ETH: 2 + 1.25 + 0.5 lost, 3 prevented, 2 reimbursed; 1.25 paid by the approved claim: 0.5 outstanding.
    expect(totals.slice(0, 5)).toEqual(['ETH', '3.75', '3', '2', '0.5']);
    // 3.75 ETH at 3129.5 and 0.2 BTC at 42150.25.
    await expect(page.locator('[data-testid=loss-summary]').textContent()).resolves.toContain('lost $20165.68');
    expect(await page.locator('[data-testid=loss-chart] rect').count()).toBe(6);
    await screenshot('loss-totals');

    await open('reimbursements');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=reimbursements] tbody tr');
    expect(await page.locator('[data-testid=reimbursements] tbody tr').count()).toBe(2);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-csv]')]);
    expect(download.suggestedFilename()).toBe('reimbursements.csv');
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/reimbursementId/);
    expect(csv).toContain('rb-1');
    expect(csv).toContain('rb-2');
    await screenshot('reimbursements');

    await open('protection-claims');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=protection-claims] tbody tr');
    const rows = await page.locator('[data-testid=protection-claims] tbody tr').allTextContents();
    expect(rows.find((row) => row.startsWith('c1'))).toContain('approved');
    expect(rows.find((row) => row.startsWith('c2'))).toMatch(/denied.*NO_POLICE_REPORT, DEVICE_JAILBROKEN/);
    await screenshot('protection-claims');
  });

  it('shows auditors streams with hashes and paging, the global log, as-of balances, and the first failing event', async () => {
    await page.click('nav .sign-out');
    await signIn(TEST_KEYS.auditor);
    await expect(page.locator('[data-testid=role]').textContent()).resolves.toBe('auditor');
    await expect(page.locator('[data-testid=head-position]').textContent()).resolves.toBe(String(await t.head()));

    await open('streams');
    await page.fill('input[name=stream]', 'account-alice');
    await page.fill('input[name=limit]', '3');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=stream-events] tbody tr');
    const firstPage = await page.locator('[data-testid=stream-events] tbody tr td:nth-child(3)').allTextContents();
    expect(firstPage).toEqual(['0', '1', '2']);
    await page.click('text=Next page');
    await waitFor(() => page.locator('[data-testid=page-number]').textContent(), 'Page 2');
    await waitFor(() => page.locator('[data-testid=stream-events] tbody tr td:nth-child(3)').first().textContent(), '3');
    await page.locator('[data-testid=stream-events] details').first().click();
    await expect(page.locator('[data-testid=stream-events] pre').first().textContent()).resolves.toContain('"prevHash"');
    await screenshot('stream-browser');

    await open('log');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=log-events] tbody tr');
    expect(await page.locator('[data-testid=log-events] tbody tr').count()).toBe(20);
    await screenshot('global-log');

    await open('as-of');
    await page.fill('input[name=accountId]', 'alice');
    await page.fill('input[name=asOfPosition]', beforeIncident);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=balances] tbody tr');
    await expect(page.locator('[data-testid=as-of-position]').textContent()).resolves.toBe(beforeIncident);
    expect((await page.locator('[data-testid=balances] tbody tr td').allTextContents()).slice(0, 3)).toEqual(['ETH', '10', '0']);
    await screenshot('as-of');

    await open('verify');
    await page.click('button[type=submit]');
    await expect(page.locator('[data-testid=verify-report]').textContent()).resolves.toMatch(/^Intact/);
    await t.tamperEventData('account-bob', 1, '"amount":"10"', '"amount":"100"');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=first-failure]');
    const failure = await page.locator('[data-testid=first-failure] dd').allTextContents();
    expect(failure.slice(1, 3)).toEqual(['account-bob', '1']);
    await screenshot('verify');
  });

  it('loaded nothing from elsewhere and broke no rule of its page policy', () => {
    expect(foreignRequests).toEqual([]);
    // Expected: the bad key's 401, and the 403s of finding a key's role by asking an auditor's route.
    expect(violations.filter((text) => !/status of (401|403)/.test(text))).toEqual([]);
  });
});
