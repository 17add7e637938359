import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../ledger-cli/test/support/cli-process';
import { get, post, startServer, type ServerProcess } from './support/server-process';

/**
 * The README's backup and restore procedure, step by step, on a server as the image runs it (keys generated on first
 * start into a 0600 file in the data folder, LEDGER_GENERATED_KEYS=file): an online backup with the sqlite3 command
 * (the read models before the events), then a restore into an empty data folder, checked with verify and reconcile,
 * and the same keys and balances after a start on it.
 */
describe('backup and restore (README: Backup and restore)', () => {
  let dir: string;
  const servers: ServerProcess[] = [];
  const envFor = (dataDir: string) => ({ LEDGER_DATA_DIR: dataDir, LEDGER_EVENT_STORE: `sqlite:${join(dataDir, 'ledger.db')}`, LEDGER_GENERATED_KEYS: 'file', LEDGER_LOG_LEVEL: 'log' });
  const stop = async (server: ServerProcess) => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-restore-'));
  });
  afterEach(async () => {
    for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores the events, the read models and the API keys from an online backup', async () => {
    const data = join(dir, 'data');
    const first = await startServer(envFor(data));
    servers.push(first);
    // The generated keys are in a file only its owner reads, not in the log.
    const keyFile = join(data, 'generated-api-keys.env');
    for (let i = 0; i < 50 && !first.output().includes(keyFile); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(first.output()).toContain(`API keys generated, one per role: written to ${keyFile} (mode 0600, nowhere else)`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const keys = Object.fromEntries([...readFileSync(keyFile, 'utf8').matchAll(/export LEDGER_KEY_([A-Z]+)=(\S+)/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    expect(Object.keys(keys).sort()).toEqual(['admin', 'auditor', 'finance', 'service']);
    for (const key of Object.values(keys)) expect(first.output()).not.toContain(key);

    expect((await post(`${first.url}/v1/accounts`, { accountId: 'kept' }, keys.service)).status).toBe(201);
    expect((await post(`${first.url}/v1/accounts/kept/deposits`, { depositId: 'd1', asset: 'ETH', amount: '4836.26' }, keys.service)).status).toBe(201);
    for (let i = 0; i < 50 && (await get(`${first.url}/v1/accounts/kept/balances`, keys.finance)).status !== 200; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));

    // Backup, while the server runs: read models first, then the events, then the key files.
    const backup = join(dir, 'backup');
    mkdirSync(backup);
    execFileSync('sqlite3', [join(data, 'read-models.db'), `.backup ${join(backup, 'read-models.db')}`]);
    execFileSync('sqlite3', [join(data, 'ledger.db'), `.backup ${join(backup, 'ledger.db')}`]);
    for (const file of ['api-keys.json', 'checkpoint-key.json']) copyFileSync(join(data, file), join(backup, file));
    // What happens after the backup is not in it.
    expect((await post(`${first.url}/v1/accounts`, { accountId: 'after-backup' }, keys.service)).status).toBe(201);
    await stop(first);

    // Restore into an empty data folder: the files back, the key files readable by their owner only.
    const restored = join(dir, 'restored');
    mkdirSync(restored);
    for (const file of readdirSync(backup)) copyFileSync(join(backup, file), join(restored, file));
    execFileSync('chmod', ['600', join(restored, 'api-keys.json'), join(restored, 'checkpoint-key.json')]);
    const env = envFor(restored);
    const verify = await runCli(['verify'], env);
    expect(verify).toMatchObject({ code: 0, stdout: expect.stringContaining('verify: OK: ') });
    expect((await runCli(['reconcile'], env)).code).toBe(0);

    const second = await startServer(env);
    servers.push(second);
    expect(second.output()).not.toContain('API keys generated');
    const balances = await get(`${second.url}/v1/accounts/kept/balances`, keys.finance);
    expect(balances.body.balances.ETH).toMatchObject({ available: '4836.26', deposited: '4836.26' });
    expect((await get(`${second.url}/v1/accounts/after-backup/balances`, keys.finance)).status).toBe(404);
    await stop(second);
  });
});

/** There is no Docker engine on the machine this was built on: the image's recipe is checked as text. */
describe('docker/Dockerfile', () => {
  const dockerfile = readFileSync(join(__dirname, '../../../docker/Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds and runs on Node 26, the Active LTS line, with sqlite3 for the backup in the image it runs', () => {
    expect(stages.map((stage) => stage.split(/\s/)[0])).toEqual(['node:26-trixie-slim', 'node:26-trixie-slim']);
    expect(stages[1]).toMatch(/apt-get install -y --no-install-recommends sqlite3\b/);
  });

  it('writes generated keys to the data volume, not the logs, and builds from source as npm ci does here', () => {
    expect(stages[1]).toMatch(/^ENV .*\bLEDGER_GENERATED_KEYS=file\b/m);
    expect(stages[1]).toMatch(/^VOLUME \["\/app\/data"\]/m);
    expect(stages[0]).toMatch(/^COPY package\.json package-lock\.json \.prebuild-installrc \.\/$/m);
    expect(stages[0]).toMatch(/^COPY tools \.\/tools$/m);
  });
});
