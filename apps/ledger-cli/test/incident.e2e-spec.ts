import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCliBuild, runCli } from './support/cli-process';

const ACCOUNTS = '600';
/** A 600-account run takes about 2.5 s; a test makes up to three. */
const TIMEOUT_MS = 60_000;

/** `npm run incident` is `ledger incident`: the built CLI, with a smaller population than the default 10,000. */
describe('ledger incident (the built dist/apps/ledger-cli)', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(() => requireCliBuild());

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-incident-e2e-'));
    // The child's temporary folder, so that the test sees the temporary store go away.
    mkdirSync(join(dir, 'tmp'));
    env = { TMPDIR: join(dir, 'tmp') };
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('--json prints one object with the published figures, the log hash and the time taken; the same seed gives the same hash', async () => {
    // One after the other: each run stays well inside runCli's time limit even on a busy machine.
    const first = await runCli(['incident', '--json', '--accounts', ACCOUNTS], env);
    const second = await runCli(['incident', '--json', '--accounts', ACCOUNTS], env);
    const otherSeed = await runCli(['incident', '--json', '--accounts', ACCOUNTS, '--seed', '7'], env);
    for (const run of [first, second, otherSeed]) {
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    }
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({
      affectedAccounts: 483,
      otherAssetsUsd: '66200.00',
      totalUsd: '33812346.00',
      reimbursedUsd: '33812346.00',
      netCustomerLoss: { ETH: '0', BTC: '0', CRO: '0', SOL: '0', USDC: '0', USDT: '0' },
      netCustomerLossUsd: '0.00',
      claims: { filed: 12, approved: 4, denied: 8, capped: 2 },
      haltDuration: { seconds: 60_960, text: '16 h 56 min', companyStatement: '~14 hours' },
      replayMatches: true,
      scenario: { seed: 20_220_117, accounts: 600, store: null },
    });
    expect(result.losses.slice(0, 2)).toMatchObject([
      { asset: 'ETH', amount: '4836.26', usd: '15132516.00' },
      { asset: 'BTC', amount: '443.93', usd: '18613630.00' },
    ]);
    expect(result.reimbursed).toHaveLength(6);
    // The majority of attacked accounts lost nothing; the risk monitor flags every attacked account before 00:46.
    expect(result.accountsReimbursedInFull).toBe(193);
    expect(result.unauthorizedWithdrawals.prevented).toBeGreaterThan(result.unauthorizedWithdrawals.lost);
    expect(result.risk).toMatchObject({ recall: '1.000', precision: '1.000', attackedAccounts: 483 });
    expect(result.risk.firstHaltingAlert.at < '2022-01-17T00:46:00.000Z').toBe(true);
    expect(result.defences).toBeNull();
    expect(Object.keys(result.claims.byReason)).toHaveLength(8);
    expect(result.eventLogSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof result.elapsedMs).toBe('number');
    expect(JSON.parse(second.stdout).eventLogSha256).toBe(result.eventLogSha256);
    const other = JSON.parse(otherSeed.stdout);
    expect(other.eventLogSha256).not.toBe(result.eventLogSha256);
    expect(other.totalUsd).toBe('33812346.00');
    // The temporary stores are gone.
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  }, TIMEOUT_MS);

  it('--out writes the finance CSVs and a self-contained report.html with its SVG charts; --store keeps the ledger', async () => {
    const out = join(dir, 'report');
    const store = join(dir, 'incident.db');
    const run = await runCli(['incident', '--accounts', ACCOUNTS, '--store', store, '--out', out], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Affected accounts: 483');
    expect(run.stdout).toMatch(/ETH +4,836\.26 +15,132,516\.00/);
    expect(run.stdout).toContain('2022-01-16 19:46 EST');
    expect(run.stdout).toMatch(/Elapsed: \d+\.\d s/);
    expect(readdirSync(out).sort()).toEqual(['affected-accounts.csv', 'claims.csv', 'losses.csv', 'reimbursements.csv', 'report.html']);

    expect(run.stdout).toMatch(/Risk monitor .*\n  alerts before the exchange's detection at 2022-01-17 00:46 UTC: \d+/);
    expect(run.stdout).toMatch(/recall 1\.000 \(483 of 483 attacked accounts flagged\)/);
    expect(run.stdout).not.toContain('With the defences on');

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('<h2>Risk monitor</h2>');
    expect(html).toContain('Risk monitor: first alert');
    expect(html).toContain('Losses per asset');
    expect(html).toContain('aria-label="Incident timeline"');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const losses = readFileSync(join(out, 'losses.csv'), 'utf8').trimEnd().split('\r\n');
    expect(losses).toHaveLength(7);
    expect(losses).toContainEqual(expect.stringMatching(/^inc-2022-01-17-2fa-bypass,ETH,4836\.26,15132516\.00,/));
    const affected = readFileSync(join(out, 'affected-accounts.csv'), 'utf8').trimEnd().split('\r\n').slice(1);
    expect(new Set(affected.map((line) => line.split(',')[1])).size).toBe(483);
    expect(readFileSync(join(out, 'claims.csv'), 'utf8').trimEnd().split('\r\n')).toHaveLength(13);
    expect(existsSync(store)).toBe(true);

    // The kept store cannot be played on again.
    const again = await runCli(['incident', '--accounts', ACCOUNTS, '--store', store, '--json'], env);
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout).error.message).toMatch(/already/);
  }, TIMEOUT_MS);

  it('--defences on replays the attack against a ledger that requires proofs: every attack command refused, nothing lost, both runs side by side', async () => {
    const out = join(dir, 'defended');
    const json = await runCli(['incident', '--json', '--accounts', ACCOUNTS, '--defences', 'on'], env);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const result = JSON.parse(json.stdout);
    expect(result.totalUsd).toBe('33812346.00');
    expect(result.defences).toMatchObject({
      affectedAccounts: 0,
      unauthorizedWithdrawals: { total: 0, lost: 0, prevented: 0 },
      totalUsd: '0.00',
      reimbursedUsd: '0.00',
      attackRefused: { whitelistings: expect.any(Number), withdrawals: result.unauthorizedWithdrawals.total },
    });
    expect(result.defences.refusals.SECOND_FACTOR_REQUIRED).toBe(result.defences.attackRefused.whitelistings + result.defences.attackRefused.withdrawals);
    expect(result.defences.eventLogSha256).not.toBe(result.eventLogSha256);

    const text = await runCli(['incident', '--accounts', ACCOUNTS, '--defences', 'on', '--out', out], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('With the defences on');
    expect(text.stdout).toMatch(/attack withdrawals refused +0 +\d+/);
    expect(text.stdout).toMatch(/lost, USD +33,812,346\.00 +0\.00/);
    // Hundreds of refusals are counted by code, not listed one by one.
    expect(text.stdout).toMatch(/Refusals checked: SECOND_FACTOR_REQUIRED \d+,/);
    expect(text.stdout.split('\n').length).toBeLessThan(150);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>With the defences on</h2>');
    expect(html).toContain('Alert timeline');
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);

    const bad = await runCli(['incident', '--defences', 'maybe'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--defences.*off or on/);
  }, TIMEOUT_MS);

  it('refuses a --store that is not a ledger, and out-of-range options, with exit 2', async () => {
    const notALedger = join(dir, 'notes.txt');
    writeFileSync(notALedger, 'not a database');
    const [notLedger, tooFew, badSeed] = await Promise.all([
      runCli(['incident', '--store', notALedger], env),
      runCli(['incident', '--accounts', '10'], env),
      runCli(['incident', '--seed', 'abc'], env),
    ]);
    expect(notLedger.code).toBe(2);
    expect(notLedger.stderr).toContain('is not a SQLite ledger');
    expect(readFileSync(notALedger, 'utf8')).toBe('not a database');
    expect(tooFew.code).toBe(2);
    expect(tooFew.stderr).toMatch(/--accounts.*from 500 to 100000/);
    expect(badSeed.code).toBe(2);
  }, TIMEOUT_MS);
});
