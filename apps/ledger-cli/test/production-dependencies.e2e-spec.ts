import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@app/event-store';

/**
 * The Docker image installs production dependencies only (`npm ci --omit=dev`), and the compose file runs the
 * projector with the operator CLI. Installing that here would take minutes (better-sqlite3 builds from source), so
 * the test does what the image's missing packages would do: a preloaded guard refuses to load any package outside
 * the production dependency tree (as `npm ls --omit=dev` lists it), then the built API and CLI are loaded and run.
 */
const ROOT = join(__dirname, '..', '..', '..');
const DIST = join(ROOT, 'dist', 'apps');

const GUARD = `
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const allowed = new Set(readFileSync(process.env.PRODUCTION_PACKAGES, 'utf8').split('\\n').filter(Boolean));
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const resolved = resolve.call(this, request, parent, ...rest);
  const at = resolved.lastIndexOf('/node_modules/');
  if (at >= 0) {
    const parts = resolved.slice(at + '/node_modules/'.length).split('/');
    const name = parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0];
    const root = resolved.slice(0, at + '/node_modules/'.length) + name;
    if (!allowed.has(root)) throw new Error('not a production dependency: ' + name + ' (required by ' + (parent && parent.filename) + ')');
  }
  return resolved;
};
`;

describe('the built API and operator CLI with production dependencies only (as the Docker image has them)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['-r', join(dir, 'guard.js'), ...args], { cwd: dir, env: { ...env, ...extra }, encoding: 'utf8', timeout: 30_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prod-deps-'));
    // The operator CLI reads an existing ledger: an empty one.
    await openSqliteEventStore({ path: join(dir, 'data', 'ledger.db') }).close();
    // `npm ls` exits non-zero on any problem it reports (an extraneous package, say); the list is what counts.
    let listed: string;
    try {
      listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (error) {
      listed = (error as { stdout?: string }).stdout ?? '';
    }
    writeFileSync(join(dir, 'production-packages.txt'), listed);
    writeFileSync(join(dir, 'guard.js'), GUARD);
    const { LEDGER_API_KEYS: _keys, ...rest } = process.env;
    env = { ...rest, NODE_ENV: 'production', PRODUCTION_PACKAGES: join(dir, 'production-packages.txt'), LEDGER_DATA_DIR: join(dir, 'data'), LEDGER_EVENT_STORE: `sqlite:${join(dir, 'data', 'ledger.db')}` };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the guard refuses a devDependency, so the checks below mean something', () => {
    const emmett = run(['-e', `require(require.resolve('@event-driven-io/emmett', { paths: [${JSON.stringify(ROOT)}] }))`]);
    expect(emmett.status).not.toBe(0);
    expect(emmett.stderr).toContain('not a production dependency: @event-driven-io/emmett');
    // The bench is an app of its own precisely because it needs them.
    const bench = run([join(DIST, 'ledger-bench', 'src', 'main.js'), '--help']);
    expect(bench.status).not.toBe(0);
    expect(bench.stderr).toMatch(/not a production dependency: (@event-driven-io\/emmett|autocannon)/);
  });

  it('runs the operator CLI: its help, and verify, project --once, reconcile and keys on a fresh store', () => {
    const help = run([join(DIST, 'ledger-cli', 'src', 'main.js'), '--help']);
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: ledger');
    expect(help.stdout).not.toContain('bench');
    for (const command of [['verify', '--json'], ['project', '--once', '--json'], ['reconcile', '--json'], ['keys', 'list']]) {
      const result = run([join(DIST, 'ledger-cli', 'src', 'main.js'), ...command]);
      expect({ command, status: result.status, stderr: result.stderr }).toEqual({ command, status: 0, stderr: '' });
    }
  });

  it('builds and starts the API application, then closes it', () => {
    const script = `
      const { createApp } = require(${JSON.stringify(join(DIST, 'ledger-api', 'src', 'app.js'))});
      const { loadConfig } = require(${JSON.stringify(join(ROOT, 'dist', 'libs', 'ledger', 'src', 'index.js'))});
      (async () => {
        const app = await createApp(loadConfig(process.env), { logLevels: false });
        await app.init();
        await app.close();
        process.stdout.write('started and closed\\n');
      })().catch((error) => { process.stderr.write(String(error && error.stack || error) + '\\n'); process.exit(1); });
    `;
    const result = run(['-e', script], { LEDGER_API_KEYS: 'service=prod-deps-service-key-0123456789ab' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('started and closed');
    expect(result.status).toBe(0);
  });
});
