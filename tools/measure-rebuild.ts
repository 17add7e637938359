/**
 * Measures `ledger rebuild` on a large log: writes a SQLite event store of valid ledger history (ledgerHistory +
 * appendAll, as the projection tests do, 1,000,000 events by default), then runs the built CLI's `rebuild --json` on
 * it as a child process, and prints its events per second, elapsed time and peak RSS. Not part of `npm test`.
 *
 *   npm run build
 *   node -r ts-node/register/transpile-only tools/measure-rebuild.ts [--events 1000000] [--keep]
 *
 * --keep leaves the temporary folder (event store and read models) in place and prints its path.
 */
import './app-paths';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@app/event-store';
import { ledgerHistory } from '@app/projections/testing/ledger-history';
import { appendAll } from '@app/projections/testing/recorded';

const CLI_ENTRY = join(__dirname, '..', 'dist', 'apps', 'ledger-cli', 'src', 'main.js');
const DEFAULT_EVENTS = 1_000_000;
/** ledgerHistory makes about 1.3 events per operation after the accounts' own; a little more than asked is cut. */
const OPERATIONS_PER_EVENT = 0.8;
const EVENTS_PER_ACCOUNT = 50;
const HISTORY_SEED = 1_000_003;

interface RebuildResult {
  readonly position: string | null;
  readonly eventsFolded: number;
  readonly batches: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  readonly peakRssMb: number;
}

function parseArgs(argv: readonly string[]): { events: number; keep: boolean } {
  let events = DEFAULT_EVENTS;
  let keep = false;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--keep') keep = true;
    else if (argv[i] === '--events' && /^[0-9]{1,9}$/.test(argv[i + 1] ?? '')) events = Number(argv[(i += 1)]);
    else throw new Error(`usage: measure-rebuild.ts [--events N] [--keep] (got ${argv[i]})`);
  }
  return { events, keep };
}

async function writeStore(path: string, events: number): Promise<void> {
  const startedMs = performance.now();
  const accounts = Math.max(10, Math.round(events / EVENTS_PER_ACCOUNT));
  const history = ledgerHistory({ accounts, operations: Math.round(events * OPERATIONS_PER_EVENT), seed: HISTORY_SEED });
  if (history.length < events) throw new Error(`the history has ${history.length} events, fewer than ${events}`);
  // A prefix of a valid history is a valid history.
  const placed = history.slice(0, events);
  const store = openSqliteEventStore({ path });
  try {
    const head = await appendAll(store, placed);
    if (head !== BigInt(events)) throw new Error(`the store's head is ${head}, not ${events}`);
  } finally {
    await store.close();
  }
  const seconds = (performance.now() - startedMs) / 1_000;
  const megabytes = (statSync(path).size / 1_048_576).toFixed(0);
  console.log(`store: ${events} events (${accounts} accounts) written in ${seconds.toFixed(1)} s, ${megabytes} MB: ${path}`);
}

function runRebuild(eventStorePath: string, readStorePath: string): Promise<RebuildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, 'rebuild', '--json'], {
      env: { PATH: process.env.PATH ?? '', LEDGER_EVENT_STORE: `sqlite:${eventStorePath}`, LEDGER_READ_STORE: `sqlite:${readStorePath}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const stdout: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const text = Buffer.concat(stdout).toString('utf8');
      if (code !== 0) reject(new Error(`ledger rebuild ended with ${code ?? signal}: ${text}`));
      else resolve(JSON.parse(text) as RebuildResult);
    });
  });
}

async function main(): Promise<void> {
  const { events, keep } = parseArgs(process.argv.slice(2));
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'measure-rebuild-'));
  try {
    const eventStorePath = join(dir, 'ledger.db');
    await writeStore(eventStorePath, events);
    const result = await runRebuild(eventStorePath, join(dir, 'read-models.db'));
    console.log(
      `rebuild: ${result.position} events (${result.eventsFolded} folded, ${result.batches} batches) in ${(result.elapsedMs / 1_000).toFixed(1)} s: ` +
        `${result.eventsPerSecond} events/s, peak RSS ${result.peakRssMb} MB`,
    );
    console.log(JSON.stringify({ events, ...result }));
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
