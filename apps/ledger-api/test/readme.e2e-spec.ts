import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { startServer, type ServerProcess } from './support/server-process';

const ROOT = join(__dirname, '../../..');
const README = join(ROOT, 'README.md');
const CLI = join(ROOT, 'dist/apps/ledger-cli/src/main.js');
const END = '@@END-OF-COMMAND@@';

interface Step {
  readonly command: string;
  readonly expected: string;
}

/** A line of the walkthrough in its order: a curl command and the answer its comment shows, or a shell line. */
type Item = { kind: 'curl'; command: string[]; expected: string[] } | { kind: 'shell'; command: string[] };

/**
 * The README's walkthrough block: the curl commands with the answers their comments show, and the shell lines
 * between them (variables, the proofs `ledger attester sign` makes), kept in their order.
 */
function walkthrough(): { items: Item[]; steps: Step[] } {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('## Walkthrough'));
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((match) => match[1]!);
  // The first bash block starts the server; the walkthrough is the one that talks to it.
  const block = blocks.find((candidate) => candidate.includes('curl '));
  if (!block) throw new Error('README has no bash block with curl commands under "## Walkthrough"');
  const items: Item[] = [];
  for (const line of block.split('\n')) {
    const last = items[items.length - 1];
    if (line.startsWith('curl ')) items.push({ kind: 'curl', command: [line], expected: [] });
    else if (line.startsWith('# {') && last?.kind === 'curl') last.expected.push(line.slice(2));
    else if (line.startsWith('#  ') && last?.kind === 'curl') last.expected.push(line.slice(3));
    else if (line.startsWith('  ') && last !== undefined && (last.kind === 'shell' || last.expected.length === 0)) last.command.push(line);
    else if (/^[A-Z][A-Z0-9_]*=/.test(line)) items.push({ kind: 'shell', command: [line] });
  }
  const steps = items.flatMap((item) => (item.kind === 'curl' ? [{ command: item.command.join('\n'), expected: item.expected.join(' ') }] : []));
  return { items, steps };
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
  let attester: { LEDGER_ATTESTER_KEY: string; LEDGER_SECOND_FACTOR_KEYS: string };
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
    // As the README does it: `ledger attester keygen --out data/attester.env`, sourced where the server runs.
    const keygen = spawnSync(process.execPath, [CLI, 'attester', 'keygen', '--out', join(dir, 'data', 'attester.env')], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    expect(keygen.status).toBe(0);
    expect(statSync(join(dir, 'data', 'attester.env')).mode & 0o777).toBe(0o600);
    attester = Object.fromEntries(
      [...readFileSync(join(dir, 'data', 'attester.env'), 'utf8').matchAll(/^export ([A-Z_]+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]),
    ) as typeof attester;
    expect(Object.keys(attester).sort()).toEqual(['LEDGER_ATTESTER_KEY', 'LEDGER_SECOND_FACTOR_KEYS']);
    server = await startServer({
      LEDGER_EVENT_STORE: store,
      LEDGER_DATA_DIR: join(dir, 'data'),
      LEDGER_LOG_LEVEL: 'warn',
      LEDGER_SECOND_FACTOR_KEYS: attester.LEDGER_SECOND_FACTOR_KEYS,
    });
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
    const { items, steps } = walkthrough();
    expect(steps.length).toBeGreaterThanOrEqual(15);
    const keys = Object.fromEntries([...running.output().matchAll(/export (LEDGER_KEY_[A-Z]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(keys)).toHaveLength(4);
    const script = items
      .map((item) =>
        item.kind === 'shell' ? item.command.join('\n').replace('http://127.0.0.1:3000', running.url) : `${item.command.join('\n')}\necho\necho '${END}'`,
      )
      .join('\n');
    const run = spawnSync('bash', ['-c', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...keys, LEDGER_ATTESTER_KEY: attester.LEDGER_ATTESTER_KEY },
      encoding: 'utf8',
      timeout: 120_000,
    });
    // The shell's own start-up may print (a user's .bashrc); what the walkthrough's commands print may not.
    expect(run.stderr.split('\n').filter((line) => /ledger|attester|curl|error/i.test(line))).toEqual([]);
    expect(run.status).toBe(0);
    const answers = run.stdout.split(`${END}\n`).slice(0, steps.length);
    steps.forEach((step, index) => {
      expect({ command: step.command, answer: normalise(answers[index]!.trim()) }).toEqual({ command: step.command, answer: normalise(step.expected) });
    });
  });
});
