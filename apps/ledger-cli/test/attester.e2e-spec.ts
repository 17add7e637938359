import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, SecondFactorVerifier } from '@app/ledger';
import { requireCliBuild, runCli } from './support/cli-process';

jest.setTimeout(30_000);

/** The exports a keygen printed, as a shell would set them. */
function exportsOf(script: string): Record<string, string> {
  return Object.fromEntries([...script.matchAll(/^export ([A-Z_]+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
}

const WITHDRAWAL = ['--account', 'alice', '--act', 'withdrawal', '--token', 'tok-1', '--amr', 'totp', '--withdrawal', 'wd-1', '--asset', 'ETH', '--amount', '1.5', '--address', '0xA11CE00000000000000000000000000000000001'];

describe('ledger attester (the built CLI)', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(() => requireCliBuild());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-cli-attester-'));
    env = { LEDGER_EVENT_STORE: `sqlite:${join(dir, 'ledger.db')}` };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keygen prints the public key set for the ledger and the private key for the signer; the ledger accepts what sign signs', async () => {
    const keygen = await runCli(['attester', 'keygen', '--kid', 'auth-2026'], env);
    expect(keygen).toMatchObject({ code: 0, stderr: '' });
    const vars = exportsOf(keygen.stdout);
    expect(Object.keys(vars).sort()).toEqual(['LEDGER_ATTESTER_KEY', 'LEDGER_SECOND_FACTOR_KEYS']);
    expect(vars.LEDGER_SECOND_FACTOR_KEYS).not.toContain('"d"');
    // The ledger's own configuration takes the public half.
    const config = loadConfig({ LEDGER_SECOND_FACTOR_KEYS: vars.LEDGER_SECOND_FACTOR_KEYS! });
    expect(config.secondFactor.keys.map((key) => key.kid)).toEqual(['auth-2026']);

    const sign = await runCli(['attester', 'sign', ...WITHDRAWAL], { ...env, LEDGER_ATTESTER_KEY: vars.LEDGER_ATTESTER_KEY! });
    expect(sign).toMatchObject({ code: 0, stderr: '' });
    const verified = await new SecondFactorVerifier(config.secondFactor.keys, config.secondFactor.audience).verify(sign.stdout.trim());
    expect(verified.kid).toBe('auth-2026');
    expect(verified.claims).toMatchObject({ sub: 'alice', act: 'withdrawal', tid: 'tok-1', amr: ['totp'], wid: 'wd-1', asset: 'ETH', amount: '1.5' });
    expect(verified.claims.exp - verified.claims.iat).toBe(120);
  });

  it('keygen --out writes the exports with mode 0600 and never overwrites a key file', async () => {
    const out = join(dir, 'data', 'attester.env');
    const first = await runCli(['attester', 'keygen', '--out', out], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`written to ${out}`);
    expect(first.stdout).not.toContain('LEDGER_ATTESTER_KEY=');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const before = readFileSync(out, 'utf8');
    const second = await runCli(['attester', 'keygen', '--out', out], env);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('exists already');
    expect(readFileSync(out, 'utf8')).toBe(before);
  });

  it('sign refuses without a private key, with a public key, and with options that do not make a proof', async () => {
    const keygen = exportsOf((await runCli(['attester', 'keygen'], env)).stdout);
    const missing = await runCli(['attester', 'sign', ...WITHDRAWAL], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('LEDGER_ATTESTER_KEY is not set');
    expect(missing.stdout).toBe('');

    const publicOnly = JSON.stringify(JSON.parse(keygen.LEDGER_SECOND_FACTOR_KEYS!).keys[0]);
    const wrongKey = await runCli(['attester', 'sign', ...WITHDRAWAL], { ...env, LEDGER_ATTESTER_KEY: publicOnly });
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain('not an Ed25519 private JWK');

    const signer = { ...env, LEDGER_ATTESTER_KEY: keygen.LEDGER_ATTESTER_KEY! };
    const noAmount = await runCli(['attester', 'sign', ...WITHDRAWAL.slice(0, 10), '--asset', 'ETH', '--address', 'x1'], signer);
    expect(noAmount.code).toBe(2);
    expect(noAmount.stderr).toContain('a withdrawal proof needs --withdrawal and --amount');
    const badAmr = await runCli(['attester', 'sign', ...WITHDRAWAL.map((arg) => (arg === 'totp' ? 'totp,password' : arg))], signer);
    expect(badAmr.code).toBe(2);
    expect(badAmr.stderr).toMatch(/--amr.*distinct methods among totp, sms, webauthn/);
    const longTtl = await runCli(['attester', 'sign', ...WITHDRAWAL, '--ttl', '301'], signer);
    expect(longTtl.code).toBe(2);
    expect(longTtl.stderr).toContain('from 1 to 300');
    const nonCanonical = await runCli(['attester', 'sign', ...WITHDRAWAL.map((arg) => (arg === '1.5' ? '1.50' : arg))], signer);
    expect(nonCanonical.code).toBe(2);
    expect(nonCanonical.stderr).toContain('canonical decimal');
    // None of this touched a ledger.
    expect(existsSync(join(dir, 'ledger.db'))).toBe(false);
  });
});
