import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { startServer, type ServerProcess } from './support/server-process';

const README = join(__dirname, '../../../README.md');
const END = '@@END-OF-COMMAND@@';

interface Step {
  readonly command: string;
  readonly expected: string;
}

/** The README's walkthrough block, split into commands and the answers its comments show. */
function walkthrough(): { setup: string[]; steps: Step[] } {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('## Walkthrough'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no bash block under "## Walkthrough"');
  const setup: string[] = [];
  const steps: Array<{ command: string[]; expected: string[] }> = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('curl ')) steps.push({ command: [line], expected: [] });
    else if (line.startsWith('# {')) steps[steps.length - 1]!.expected.push(line.slice(2));
    else if (line.startsWith('#  ')) steps[steps.length - 1]!.expected.push(line.slice(3));
    else if (line.startsWith('  ') && steps.length > 0 && steps[steps.length - 1]!.expected.length === 0) steps[steps.length - 1]!.command.push(line);
    else if (/^[A-Z]=/.test(line)) setup.push(line);
  }
  return { setup, steps: steps.map((step) => ({ command: step.command.join('\n'), expected: step.expected.join(' ') })) };
}

/** Event ids are shortened in the README and the hold's end depends on the clock; everything else must match. */
function normalise(text: string): unknown {
  const masked = text
    .replace(/"[0-9a-f]{8}-(\.\.\.|[0-9a-f-]{27})"/g, '"<event id>"')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<instant>');
  return JSON.parse(masked);
}

const POSTGRES_ADMIN_URL = process.env.LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function postgresAdmin(sql: string): Promise<boolean> {
  const client = new PgClient({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query(sql);
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe.each(['sqlite', 'postgres'] as const)('the README walkthrough, run as written, on %s', (kind) => {
  let dir: string;
  let server: ServerProcess | undefined;
  const database = `ledger_readme_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-readme-'));
    let store = `sqlite:${join(dir, 'data', 'ledger.db')}`;
    if (kind === 'postgres') {
      if (!(await postgresAdmin(`CREATE DATABASE ${database}`))) {
        console.warn(`README walkthrough on PostgreSQL skipped: no PostgreSQL at ${POSTGRES_ADMIN_URL}`);
        return;
      }
      const url = new URL(POSTGRES_ADMIN_URL);
      url.pathname = `/${database}`;
      store = url.toString();
    }
    server = await startServer({ LEDGER_EVENT_STORE: store, LEDGER_DATA_DIR: join(dir, 'data'), LEDGER_LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    if (server) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    if (kind === 'postgres') await postgresAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every command exactly as the README shows', () => {
    if (!server) return;
    const running = server;
    const { setup, steps } = walkthrough();
    expect(steps.length).toBeGreaterThanOrEqual(15);
    const keys = Object.fromEntries([...running.output().matchAll(/export (LEDGER_KEY_[A-Z]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(keys)).toHaveLength(4);
    const script = [
      ...setup.map((line) => line.replace('http://127.0.0.1:3000', running.url)),
      ...steps.map((step) => `${step.command}\necho\necho '${END}'`),
    ].join('\n');
    const run = spawnSync('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '', ...keys }, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    const answers = run.stdout.split(`${END}\n`).slice(0, steps.length);
    steps.forEach((step, index) => {
      expect({ command: step.command, answer: normalise(answers[index]!.trim()) }).toEqual({ command: step.command, answer: normalise(step.expected) });
    });
  });
});
