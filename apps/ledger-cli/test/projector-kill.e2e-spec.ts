import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS } from '@app/projections';
import { ledgerHistory } from '@app/projections/testing/ledger-history';
import { appendAll } from '@app/projections/testing/recorded';
import { requireCliBuild, runCli, startCli, type CliProcess, type CliRun } from './support/cli-process';
import { storedCheckpoints } from './support/ledger-files';
import { mulberry32 } from '@app/domain/testing/random';

/**
 * The projections issue's "Done when": a projector killed outright (kill -9) at any point of its catch-up never
 * applies an event twice nor skips one. Each kill is followed by a reconcile of the read models at the checkpoint the
 * killed projector reached; a last `project --once` finishes and the read models reconcile at the head.
 *
 * The kill schedule comes from a seeded PRNG, so a run is reproducible as far as timing allows: half the kills come
 * after a random 50-1500 ms (anywhere: start-up, folding a batch, committing it), the other half as soon as the
 * checkpoint moved (just after a commit, while the next batch is folding).
 */
jest.setTimeout(240_000);

const HISTORY_ACCOUNTS = 2_000;
/** ledgerHistory makes one to three events per operation: with the accounts' own, a little over 100,000 events. */
const HISTORY_OPERATIONS = 80_000;
const MIN_EVENTS = 100_000;
const KILLS = 20;
const KILL_SCHEDULE_SEED = 20_220_117;
const MIN_DELAY_MS = 50;
const MAX_DELAY_MS = 1_500;
/** A reconcile or a catch-up of 100,000 events takes seconds; these only catch a hung process. */
const CLI_TIMEOUT_MS = 120_000;
const POLL_MS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

type KillOutcome = 'before its first commit' | 'mid-catch-up' | 'after catching up';

interface KillRecord {
  readonly round: number;
  readonly trigger: string;
  readonly killedAfterMs: number;
  readonly from: number;
  readonly reached: number;
  readonly outcome: KillOutcome;
}

describe('the projector killed with SIGKILL during its catch-up (exactly once)', () => {
  let dir: string;
  let env: Record<string, string>;
  let readStorePath: string;
  let head: number;

  beforeAll(async () => {
    requireCliBuild();
    dir = mkdtempSync(join(tmpdir(), 'ledger-cli-kill-'));
    const eventStorePath = join(dir, 'ledger.db');
    readStorePath = join(dir, 'read-models.db');
    // The projector here only reads the log: no signed checkpoint is appended to it (they would move the head).
    env = { LEDGER_EVENT_STORE: `sqlite:${eventStorePath}`, LEDGER_CHECKPOINTS: 'off' };
    const history = ledgerHistory({ accounts: HISTORY_ACCOUNTS, operations: HISTORY_OPERATIONS, seed: 17 });
    const store = openSqliteEventStore({ path: eventStorePath });
    try {
      head = Number(await appendAll(store, history));
    } finally {
      await store.close();
    }
    expect(head).toBeGreaterThanOrEqual(MIN_EVENTS);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** CLI processes a failed test may leave running: killed after each test, so that none outlives the suite. */
  const running = new Set<CliProcess>();
  const start = (args: readonly string[], processEnv: Record<string, string>): CliProcess => {
    const child = startCli(args, processEnv, { timeoutMs: CLI_TIMEOUT_MS });
    running.add(child);
    void child.exited.then(() => running.delete(child));
    return child;
  };
  afterEach(async () => {
    for (const child of running) process.kill(child.pid, 'SIGKILL');
    await Promise.all([...running].map((child) => child.exited));
  });

  /** The position every projection has reached (they commit together); 0 before the first commit. */
  const reachedPosition = (path = readStorePath): number => {
    const checkpoints = storedCheckpoints(path);
    if (checkpoints.size === 0) return 0;
    // One transaction moves every checkpoint: seeing two positions would mean a torn commit.
    expect(checkpoints.size).toBe(ALL_PROJECTIONS.length);
    expect(new Set(checkpoints.values()).size).toBe(1);
    return [...checkpoints.values()][0]!;
  };

  /** Reconciles the read models and checks every projection was compared at `position` and matched. */
  const expectReconciledAt = async (position: number, extraEnv: Record<string, string> = {}): Promise<void> => {
    const run: CliRun = await runCli(['reconcile', '--json'], { ...env, ...extraEnv }, { timeoutMs: CLI_TIMEOUT_MS });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ ok: true, differenceCount: 0, headPosition: String(head) });
    expect(report.projections.map((p: { name: string; checkpoint: string | null }) => [p.name, p.checkpoint])).toEqual(
      ALL_PROJECTIONS.map(({ name }) => [name, position === 0 ? null : String(position)]),
    );
  };

  it(`reconciles after each of ${KILLS} kill -9 of ledger project, and at the head after a last project --once`, async () => {
    const random = mulberry32(KILL_SCHEDULE_SEED);
    const kills: KillRecord[] = [];
    for (let round = 1; round <= KILLS; round += 1) {
      const from = reachedPosition();
      const delayMs = MIN_DELAY_MS + Math.floor(random() * (MAX_DELAY_MS - MIN_DELAY_MS + 1));
      const afterCommit = random() < 0.5 && from < head;
      const startedMs = Date.now();
      const projector = start(['project', '--json'], env);
      let exited = false;
      void projector.exited.then(() => (exited = true));
      if (afterCommit) await until(() => exited || reachedPosition() > from, CLI_TIMEOUT_MS);
      else await sleep(delayMs);
      expect(exited).toBe(false);
      process.kill(projector.pid, 'SIGKILL');
      const killedAfterMs = Date.now() - startedMs;
      expect((await projector.exited).code).toBe('SIGKILL');

      const reached = reachedPosition();
      expect(reached).toBeGreaterThanOrEqual(from);
      const outcome: KillOutcome = reached === head ? 'after catching up' : reached === from ? 'before its first commit' : 'mid-catch-up';
      kills.push({ round, trigger: afterCommit ? 'checkpoint moved' : `${delayMs} ms`, killedAfterMs, from, reached, outcome });
      // Killed before it even created the read store: nothing to compare yet.
      if (existsSync(readStorePath)) await expectReconciledAt(reached);
    }

    const count = (outcome: KillOutcome) => kills.filter((kill) => kill.outcome === outcome).length;
    const reachedByKills = kills[kills.length - 1]!.reached;
    console.log(
      [
        `${head} events; ${KILLS} kills: ${count('mid-catch-up')} mid-catch-up, ${count('before its first commit')} before the projector's ` +
          `first commit, ${count('after catching up')} after it caught up; checkpoint ${reachedByKills} after the last kill`,
        ...kills.map((k) => `  #${k.round} killed after ${k.killedAfterMs} ms (${k.trigger}): ${k.from} -> ${k.reached} (${k.outcome})`),
      ].join('\n'),
    );
    // The kills must have interrupted the catch-up part-way, not only before it began or after it ended.
    expect(count('mid-catch-up')).toBeGreaterThanOrEqual(3);
    expect(reachedByKills).toBeGreaterThan(0);

    const last = await runCli(['project', '--once', '--json'], env, { timeoutMs: CLI_TIMEOUT_MS });
    expect(last.code).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ startPosition: String(reachedByKills), position: String(head) });
    expect(reachedPosition()).toBe(head);
    await expectReconciledAt(head);
  });

  it('SIGINT stops project --once, and SIGTERM a rebuild, between two batches: exit 130 / 143, read models consistent', async () => {
    /** Stops the CLI with the signal once its first batch has committed to a read store of its own. */
    const interrupt = async (args: string[], signal: NodeJS.Signals, readStore: string, committed = () => reachedPosition(readStore) > 0): Promise<CliRun> => {
      const child = start(args, { ...env, LEDGER_READ_STORE: `sqlite:${readStore}` });
      await until(committed, CLI_TIMEOUT_MS);
      process.kill(child.pid, signal);
      return child.exited;
    };

    const projectedPath = join(dir, 'interrupted-project.db');
    const project = await interrupt(['project', '--once'], 'SIGINT', projectedPath);
    expect(project.code).toBe(130);
    expect(project.stderr).toContain('ledger project: stopped by SIGINT');
    const projected = reachedPosition(projectedPath);
    expect(projected).toBeLessThan(head);
    await expectReconciledAt(projected, { LEDGER_READ_STORE: `sqlite:${projectedPath}` });

    // A rebuild folds beside the read models in use: stopped before its swap, it leaves them complete, at the head.
    const rebuiltPath = join(dir, 'interrupted-rebuild.db');
    expect((await runCli(['project', '--once'], { ...env, LEDGER_READ_STORE: `sqlite:${rebuiltPath}` }, { timeoutMs: CLI_TIMEOUT_MS })).code).toBe(0);
    expect(reachedPosition(rebuiltPath)).toBe(head);
    // Small batches, so that the log takes several commits and the signal lands between two of them.
    const stagedSome = () => [...storedCheckpoints(rebuiltPath, 'staged').values()].some((position) => position > 0);
    const rebuild = await interrupt(['rebuild', '--batch-size', '5000'], 'SIGTERM', rebuiltPath, stagedSome);
    expect(rebuild.code).toBe(143);
    expect(rebuild.stderr).toContain('stopped before the swap; the read models in use are untouched');
    expect(reachedPosition(rebuiltPath)).toBe(head);
    await expectReconciledAt(head, { LEDGER_READ_STORE: `sqlite:${rebuiltPath}` });
  });
});
