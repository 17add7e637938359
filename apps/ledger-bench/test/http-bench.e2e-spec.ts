import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The compiled module: it starts dist/apps/ledger-api/src/main.js and dist/.../bench/http-load-child.js. */
const HTTP_BENCH = join(__dirname, '../../../dist/apps/ledger-bench/src/bench/http.js');

type HttpBenchModule = typeof import('../src/bench/http');

/** Pids of live processes whose working folder is inside `folder` (the bench starts the server there). Linux only. */
function processesIn(folder: string): string[] {
  if (process.platform !== 'linux') return [];
  return readdirSync('/proc').filter((entry) => {
    if (!/^[0-9]+$/.test(entry)) return false;
    try {
      return readlinkSync(`/proc/${entry}/cwd`).startsWith(folder);
    } catch {
      return false; // gone meanwhile, or not ours to look at
    }
  });
}

describe('HTTP bench (the built server and load child)', () => {
  let folder: string;
  let bench: HttpBenchModule;

  beforeAll(() => {
    if (!existsSync(HTTP_BENCH)) throw new Error(`${HTTP_BENCH} is missing: run \`npm run build\` first (\`npm test\` does)`);
    bench = require(HTTP_BENCH) as HttpBenchModule;
  });

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'ledger-http-bench-'));
  });

  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('sets up accounts over HTTP, gets a 2xx for every withdrawal request, and stops the server cleanly', async () => {
    const setupDone: number[] = [];
    let runningDuringSetup: string[] = [];
    const figures = await bench.runHttpBench({
      folder,
      accounts: 5,
      requests: 120,
      connections: 4,
      warmupRequests: 20,
      onSetupProgress: (done) => {
        setupDone.push(done);
        if (done === 1) runningDuringSetup = processesIn(folder);
      },
    });
    // The warm-up's requests are answered too but not counted.
    expect(figures.requests).toBe(120);
    expect(figures.warmupRequests).toBe(20);
    expect(figures.non2xx).toBe(0);
    expect(figures.errors).toBe(0);
    expect(figures.statusCodes).toEqual({ 201: 120 });
    expect(figures.serverExitCode).toBe(0);
    expect(setupDone[setupDone.length - 1]).toBe(5);
    for (const value of [figures.requestsPerSecond, figures.p50Ms, figures.p99Ms, figures.seconds, figures.setupSeconds]) {
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThan(0);
    }
    expect(figures.p99Ms).toBeGreaterThanOrEqual(figures.p50Ms);
    expect(figures.maxMs).toBeGreaterThanOrEqual(figures.p99Ms);
    // The check below does see the server while it runs, and nothing once the bench has returned.
    expect(runningDuringSetup).toHaveLength(1);
    expect(processesIn(folder)).toEqual([]);
  }, 60_000);

  it('kills the server when the bench is aborted, and rejects with the abort reason', async () => {
    const controller = new AbortController();
    const run = bench.runHttpBench({
      folder,
      accounts: 200,
      requests: 1_000,
      connections: 8,
      signal: controller.signal,
      // Abort in the middle of the setup, while requests are in flight.
      onSetupProgress: (done) => {
        if (done === 20) controller.abort(new Error('stop the bench'));
      },
    });
    await expect(run).rejects.toThrow('stop the bench');
    expect(processesIn(folder)).toEqual([]);
  }, 60_000);
});
