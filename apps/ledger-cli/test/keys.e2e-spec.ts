import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyFile, ApiKeyRing } from '@app/access';
import { requireCliBuild, runCli } from './support/cli-process';

/** Each test runs the CLI a few times, and creating a key costs an scrypt hash. */
jest.setTimeout(30_000);

describe('ledger keys (the built CLI)', () => {
  let dir: string;
  let keyFilePath: string;
  let env: Record<string, string>;

  beforeAll(() => requireCliBuild());

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-cli-keys-'));
    keyFilePath = join(dir, 'api-keys.json');
    // No ledger at that path: keys needs the data folder only (beside the SQLite store by default).
    env = { LEDGER_EVENT_STORE: `sqlite:${join(dir, 'ledger.db')}` };
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const authenticate = (key: string) => ApiKeyRing.fromFile(new ApiKeyFile(keyFilePath)).authenticate(key);

  it('create: prints the new key once as a shell export with its id, stores only its hash, and the key works', async () => {
    const run = await runCli(['keys', 'create', '--role', 'finance'], env);
    expect(run.code).toBe(0);
    const match = /^export LEDGER_KEY_FINANCE=(lk_[a-f0-9]{12}\.[A-Za-z0-9_-]+)\n# key id (g-[a-f0-9]{12}) \(role finance\); shown this once, stored hashed in (.+)\n$/.exec(run.stdout);
    expect(match).not.toBeNull();
    const [, key, id, path] = match!;
    expect(path).toBe(keyFilePath);
    expect(key!.startsWith(`lk_${id!.slice(2)}.`)).toBe(true);
    expect(readFileSync(keyFilePath, 'utf8')).not.toContain(key!.split('.')[1]);
    expect(await authenticate(key!)).toEqual({ id, role: 'finance' });
    expect(existsSync(join(dir, 'ledger.db'))).toBe(false);

    const json = await runCli(['keys', 'create', '--role', 'admin', '--json'], env);
    expect(json.code).toBe(0);
    const created = JSON.parse(json.stdout);
    expect(created).toEqual({ id: expect.stringMatching(/^g-/), role: 'admin', key: expect.stringMatching(/^lk_/), createdAt: expect.any(String), file: keyFilePath });
    expect(await authenticate(created.key)).toEqual({ id: created.id, role: 'admin' });
  });

  it('list: id, role, creation and revocation of every key, never a key or a hash', async () => {
    const empty = await runCli(['keys', 'list', '--json'], env);
    expect(JSON.parse(empty.stdout)).toEqual({ file: keyFilePath, keys: [] });
    const created = [];
    for (const role of ['service', 'auditor']) created.push(JSON.parse((await runCli(['keys', 'create', '--role', role, '--json'], env)).stdout));
    const [json, human] = await Promise.all([runCli(['keys', 'list', '--json'], env), runCli(['keys', 'list'], env)]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      file: keyFilePath,
      keys: created.map((key) => ({ id: key.id, role: key.role, createdAt: key.createdAt, revokedAt: null })),
    });
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +ROLE +CREATED +REVOKED$/);
    expect(lines.slice(1).map((line) => line.split(/ +/))).toEqual(created.map((key) => [key.id, key.role, key.createdAt, 'active']));
    const stored = JSON.parse(readFileSync(keyFilePath, 'utf8')).keys;
    for (const output of [json.stdout, human.stdout]) {
      for (const key of stored) {
        expect(output).not.toContain(key.scrypt);
        expect(output).not.toContain(key.salt);
      }
      for (const key of created) expect(output).not.toContain(key.key);
    }
  });

  it('revoke: the key is refused from then on and listed as revoked; again is a no-op; an unknown id is exit 2', async () => {
    const created = JSON.parse((await runCli(['keys', 'create', '--role', 'admin', '--json'], env)).stdout);
    const run = await runCli(['keys', 'revoke', '--id', created.id], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^keys: revoked ${created.id} \\(role admin\\) at \\d{4}-`));
    expect(run.stderr).toContain('no active admin key is left; keys create --role admin makes one');
    expect(await authenticate(created.key)).toBeUndefined();
    const listed = JSON.parse((await runCli(['keys', 'list', '--json'], env)).stdout);
    expect(listed.keys).toEqual([expect.objectContaining({ id: created.id, revokedAt: expect.stringMatching(/^\d{4}-/) })]);

    const again = await runCli(['keys', 'revoke', '--id', created.id, '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ id: created.id, role: 'admin', revokedAt: listed.keys[0].revokedAt, alreadyRevoked: true });

    const unknown = await runCli(['keys', 'revoke', '--id', 'g-000000000000'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`no key has id g-000000000000 in ${keyFilePath}`);
  });

  it('refuses to touch the key file while LEDGER_API_KEYS is set, explaining why (exit 2)', async () => {
    const configured = { ...env, LEDGER_API_KEYS: `admin=${'a'.repeat(32)}` };
    const runs = await Promise.all([
      runCli(['keys', 'list'], configured),
      runCli(['keys', 'create', '--role', 'admin', '--json'], configured),
      runCli(['keys', 'revoke', '--id', 'g-000000000000'], configured),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^ledger keys (list|create|revoke): LEDGER_API_KEYS is set, so the server takes its keys from that variable and never reads the key file/);
    }
    expect(JSON.parse(runs[1]!.stdout)).toMatchObject({ error: { kind: 'refused', exitCode: 2 } });
    expect(existsSync(keyFilePath)).toBe(false);
  });

  it('bad arguments are usage errors (exit 2): no sub-command, an unknown one, a missing or unknown role', async () => {
    const runs = await Promise.all([
      runCli(['keys'], env),
      runCli(['keys', 'rotate'], env),
      runCli(['keys', 'create'], env),
      runCli(['keys', 'create', '--role', 'root'], env),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/Usage: ledger keys/);
    }
    expect(runs[0]!.stderr).toContain('error: give a sub-command: keys list, keys create --role ROLE or keys revoke --id ID');
    expect(runs[1]!.stderr).toContain("error: unknown command 'rotate'");
    expect(runs[2]!.stderr).toContain("required option '--role <role>' not specified");
    expect(runs[3]!.stderr).toContain('must be one of service, admin, auditor, finance (got "root")');
    expect(existsSync(keyFilePath)).toBe(false);
  });
});
