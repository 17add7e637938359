import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { attesterFromJwk, attesterKeysEnv, generateAttester, privateJwk, signProof, type Attester } from '@app/ledger';

/**
 * The HTTP part of the benchmark (issue: `http_requests_per_s`, `http_p50_ms`, `http_p99_ms`). The real server
 * (`dist/apps/ledger-api/src/main.js`) runs as a child process on a fresh embedded SQLite store with configured API
 * keys; 500 accounts are set up through HTTP, then autocannon, in a second child process (`http-load-child.js`) so
 * that it does not share an event loop with anything else here, sends 10,000 POST withdrawal requests over 64
 * connections. Both children are killed if anything fails.
 */
export interface HttpFigures extends Omit<HttpLoadResult, 'sent'> {
  /** Opening, funding, 2FA and whitelisting the accounts over HTTP (after the server answered /health). */
  readonly setupSeconds: number;
  /** From spawning the server to its first healthy /health. */
  readonly startSeconds: number;
  readonly connections: number;
  readonly accounts: number;
  /** Requests sent before the measured ones, not counted (HttpBenchOptions.warmupRequests). */
  readonly warmupRequests: number;
  /** How the server exited after SIGTERM: 0 is a clean shutdown. */
  readonly serverExitCode: number | string;
}

export interface HttpBenchOptions {
  /** A folder the bench may write in; the server's store goes to a new sub-folder `http-XXXXXX` of it (left there). */
  readonly folder: string;
  readonly accounts: number;
  readonly requests: number;
  readonly connections: number;
  readonly signal?: AbortSignal;
  /** Extra `node` flags for the server process, such as `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
  readonly serverNodeArgs?: readonly string[];
  /** Environment overrides for the server, applied last (for experiments, such as LEDGER_PROJECTOR=off). */
  readonly serverEnv?: Readonly<Record<string, string>>;
  /** Called while the accounts are being set up, with the number of accounts done. */
  readonly onSetupProgress?: (done: number, total: number) => void;
  /** How long the load phase may take before its child is killed; 120 s when absent. */
  readonly loadTimeoutMs?: number;
  /**
   * Withdrawal requests sent (same connections, other withdrawal ids) before the measured ones and not counted, so
   * that the server's JIT is warm; 0 when absent, which measures a server fresh from start-up as the issue asks.
   */
  readonly warmupRequests?: number;
}

/** What http.ts hands to http-load-child.js (as JSON in the BENCH_HTTP_PLAN environment variable). */
export interface HttpLoadPlan {
  readonly url: string;
  readonly serviceKey: string;
  readonly accounts: number;
  readonly requests: number;
  readonly connections: number;
  /** Withdrawal ids are `<idPrefix>-<n>`: the warm-up and the measured load use different prefixes. */
  readonly idPrefix: string;
  /** The private JWK of the bench's attester: the load child signs each request's second-factor proof with it. */
  readonly attesterKey: string;
}

/** The one JSON line http-load-child.js prints. */
export interface HttpLoadResult {
  /** Responses received during the load phase (any status). */
  readonly requests: number;
  /** Requests sent. */
  readonly sent: number;
  /** Responses with a status outside 200-299. */
  readonly non2xx: number;
  /** Connection errors, timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  /** Responses per status code, such as `{ "201": 10000 }`. */
  readonly statusCodes: Readonly<Record<string, number>>;
  /** The load phase: first request sent to last response received. */
  readonly seconds: number;
  /** Responses per second over `seconds`. */
  readonly requestsPerSecond: number;
  /** Latency percentiles (nearest rank, over every response) in milliseconds, to 0.01 ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  /** The same percentiles as autocannon's own histogram reports them (whole milliseconds). */
  readonly autocannonP50Ms: number;
  readonly autocannonP99Ms: number;
}

export const HTTP_PLAN_VARIABLE = 'BENCH_HTTP_PLAN';
export const HTTP_BENCH_ADDRESS = '0xBE4C000000000000000000000000000000000002';
export const HTTP_BENCH_TOKEN = 'bench-2fa';
export const HTTP_BENCH_WITHDRAWAL_AMOUNT = '0.001';

export function httpBenchAccountId(index: number): string {
  return `http-${String(index).padStart(5, '0')}`;
}

/**
 * The withdrawal request number `index` of the load: round-robin over the accounts, a withdrawal id of its own, and
 * a proof of the second factor for exactly that withdrawal.
 */
export async function httpWithdrawalRequest(attester: Attester, index: number, accounts: number, idPrefix = 'hw'): Promise<{ path: string; body: string }> {
  const accountId = httpBenchAccountId(index % accounts);
  const withdrawalId = `${idPrefix}-${index}`;
  const fields = { asset: 'ETH', amount: HTTP_BENCH_WITHDRAWAL_AMOUNT, address: HTTP_BENCH_ADDRESS };
  const secondFactor = await signProof(attester, { accountId, act: 'withdrawal', tokenId: HTTP_BENCH_TOKEN, amr: ['totp'], withdrawalId, ...fields, ttlSeconds: 300 });
  return {
    path: `/v1/accounts/${accountId}/withdrawals`,
    body: JSON.stringify({ withdrawalId, ...fields, twoFactorTokenId: HTTP_BENCH_TOKEN, secondFactor }),
  };
}

/** The attester of a load plan. */
export function planAttester(plan: Pick<HttpLoadPlan, 'attesterKey'>): Attester {
  return attesterFromJwk(plan.attesterKey);
}

const SERVER_ENTRY = join(__dirname, '..', '..', '..', 'ledger-api', 'src', 'main.js');
const LOAD_CHILD = join(__dirname, 'http-load-child.js');
const START_TIMEOUT_MS = 30_000;
/** The server gives in-flight requests 10 s after SIGTERM (main.ts); past this we stop waiting and SIGKILL it. */
const STOP_TIMEOUT_MS = 15_000;
const SETUP_IN_FLIGHT = 64;
/** One setup request; far above what any takes, so a hung server fails the bench instead of stalling it. */
const SETUP_REQUEST_TIMEOUT_MS = 30_000;
/** Enough for 10,000 withdrawals of 0.001 ETH on one account, whatever the account count. */
const DEPOSIT_ETH = '1000';
const OUTPUT_TAIL_CHARS = 16_384;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('bench: no free port'))));
    });
  });
}

function apiKey(role: string): string {
  // base64url is within the configured-key alphabet; 32 random bytes give 43 characters (at least 24 are required).
  return `bench-${role}-${randomBytes(32).toString('base64url')}`;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The parent's environment without anything that would point the server at another store, port or key set. */
function serverEnvironment(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('LEDGER_') || name === 'PORT' || name === 'HOST') continue;
    env[name] = value;
  }
  return { ...env, ...overrides };
}

/** A child process whose output is kept (the tail), and which is killed at the latest when this process exits. */
class TrackedChild {
  private output = '';
  private exitCode: number | string | undefined;
  readonly exited: Promise<number | string>;
  private readonly killOnExit = (): void => {
    if (this.exitCode === undefined) this.child.kill('SIGKILL');
  };

  constructor(readonly child: ChildProcess) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? signal ?? -1;
        process.removeListener('exit', this.killOnExit);
        resolve(this.exitCode);
      });
      // A spawn failure (no such executable) emits error and no exit.
      child.once('error', (error) => {
        if (this.exitCode !== undefined) return;
        this.exitCode = `spawn failed: ${error.message}`;
        process.removeListener('exit', this.killOnExit);
        resolve(this.exitCode);
      });
    });
    process.once('exit', this.killOnExit);
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  tail(): string {
    return this.output.trim();
  }

  /** SIGTERM, then SIGKILL if it has not exited within timeoutMs; resolves with how it exited. */
  async stop(timeoutMs: number): Promise<number | string> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(killer);
    }
  }
}

async function waitUntilHealthy(server: TrackedChild, url: string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (!server.running) {
      throw new Error(`bench: the server exited (${String(await server.exited)}) before answering /health:\n${server.tail()}`);
    }
    try {
      const response = await fetch(`${url}/health`, { signal });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      if (signal?.aborted) throw signal.reason;
      // not listening yet
    }
    await delay(50, signal);
  }
  throw new Error(`bench: the server did not answer /health within ${START_TIMEOUT_MS} ms:\n${server.tail()}`);
}

async function post(url: string, key: string, path: string, body: unknown, signal?: AbortSignal): Promise<void> {
  // The abort is checked between requests rather than handed to fetch: fetch keeps a listener on the signal per
  // request until its response is collected, and the setup makes 2,000 of them (a listener-leak warning).
  signal?.throwIfAborted();
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(SETUP_REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`bench setup: POST ${path} answered ${response.status}: ${text.slice(0, 500)}`);
}

/** Hold policy 0 hours (admin), then per account: open, deposit ETH, enrol a 2FA token, whitelist the address. */
async function setUpAccounts(url: string, keys: { service: string; admin: string }, attester: Attester, options: HttpBenchOptions): Promise<void> {
  const { accounts, signal } = options;
  // A fresh ledger holds new addresses for 24 hours; the withdrawals below need the address usable at once.
  await post(url, keys.admin, '/v1/platform/withdrawal-policy', { newAddressHoldHours: 0 }, signal);
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < accounts && !failed) {
      const accountId = httpBenchAccountId(next);
      next += 1;
      const base = `/v1/accounts/${accountId}`;
      try {
        await post(url, keys.service, '/v1/accounts', { accountId }, signal);
        await post(url, keys.service, `${base}/deposits`, { depositId: 'bench-d1', asset: 'ETH', amount: DEPOSIT_ETH }, signal);
        await post(url, keys.service, `${base}/two-factor-tokens`, { tokenId: HTTP_BENCH_TOKEN, method: 'totp' }, signal);
        const address = { asset: 'ETH', address: HTTP_BENCH_ADDRESS };
        const secondFactor = await signProof(attester, { accountId, act: 'whitelist', tokenId: HTTP_BENCH_TOKEN, amr: ['totp'], ...address });
        await post(url, keys.service, `${base}/whitelisted-addresses`, { ...address, secondFactor }, signal);
      } catch (error) {
        failed = true;
        throw error;
      }
      done += 1;
      options.onSetupProgress?.(done, accounts);
    }
  };
  // Promise.all rejects at the first failure; the other workers stop after the request they have in hand.
  await Promise.all(Array.from({ length: Math.min(SETUP_IN_FLIGHT, accounts) }, () => worker()));
}

/** Runs http-load-child.js with the plan; resolves with the JSON line it printed. */
async function runLoadChild(plan: HttpLoadPlan, options: HttpBenchOptions): Promise<HttpLoadResult> {
  if (!existsSync(LOAD_CHILD)) throw new Error(`bench: ${LOAD_CHILD} is missing: run \`npm run build\` first`);
  // The IPC channel lets the child notice that this process died (it exits on disconnect); stdout carries the result.
  const load = new TrackedChild(
    spawn(process.execPath, [LOAD_CHILD], {
      env: { ...process.env, [HTTP_PLAN_VARIABLE]: JSON.stringify(plan) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
  const stdout: Buffer[] = [];
  load.child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  const timeoutMs = options.loadTimeoutMs ?? 120_000;
  const timer = setTimeout(() => load.child.kill('SIGKILL'), timeoutMs);
  const onAbort = (): void => {
    load.child.kill('SIGKILL');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await load.exited;
    options.signal?.throwIfAborted();
    if (code !== 0) throw new Error(`bench: the load child failed (${String(code)}${code === 'SIGKILL' ? `, killed after ${timeoutMs} ms` : ''}):\n${load.tail()}`);
    const lines = Buffer.concat(stdout).toString('utf8').trim().split('\n');
    try {
      return JSON.parse(lines[lines.length - 1]!) as HttpLoadResult;
    } catch {
      throw new Error(`bench: the load child printed no result:\n${load.tail()}`);
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (load.running) load.child.kill('SIGKILL');
  }
}

/**
 * Starts the built server on a fresh store, sets up `accounts` accounts over HTTP, sends `requests` withdrawal
 * requests over `connections` connections from a child process, stops the server with SIGTERM and returns the
 * figures. Whatever fails, neither child is left running.
 */
export async function runHttpBench(options: HttpBenchOptions): Promise<HttpFigures> {
  const { accounts, requests, signal } = options;
  if (!Number.isInteger(accounts) || accounts < 1) throw new RangeError('bench: accounts must be a positive whole number');
  if (!Number.isInteger(requests) || requests < 1) throw new RangeError('bench: requests must be a positive whole number');
  if (!Number.isInteger(options.connections) || options.connections < 1) throw new RangeError('bench: connections must be a positive whole number');
  if (options.warmupRequests !== undefined && (!Number.isInteger(options.warmupRequests) || options.warmupRequests < 0)) {
    throw new RangeError('bench: warmupRequests must be a whole number');
  }
  // autocannon refuses more connections than requests.
  const connections = Math.min(options.connections, requests);
  if (!existsSync(SERVER_ENTRY)) throw new Error(`bench: ${SERVER_ENTRY} is missing: run \`npm run build\` first`);
  signal?.throwIfAborted();

  const dataDir = mkdtempSync(join(options.folder, 'http-'));
  const keys = { service: apiKey('service'), admin: apiKey('admin') };
  // The exchange's authentication service of the bench: the server trusts its public key, as production would.
  const attester = generateAttester('bench-attester');
  const attesterKey = JSON.stringify(privateJwk(attester));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = serverEnvironment({
    PORT: String(port),
    HOST: '127.0.0.1',
    LEDGER_EVENT_STORE: `sqlite:${join(dataDir, 'ledger.db')}`,
    LEDGER_DATA_DIR: dataDir,
    // Configured keys, so that every request is authenticated for real (a SHA-256 and a constant-time compare).
    LEDGER_API_KEYS: `service=${keys.service},admin=${keys.admin}`,
    LEDGER_SECOND_FACTOR_KEYS: attesterKeysEnv(attester),
    // The throttler still runs on every request (its cost is part of the figure), but with config.ts's upper
    // bound it never refuses: all the load comes from one service key, far above the default 1,000 per second.
    LEDGER_RATE_LIMIT_PER_SECOND: '9999999',
    // `warn`: the access log (one line per request) is written only at `log` and above, so `warn` costs a request
    // exactly what `error` does, while still showing why a request failed (the event store's refusals are warnings).
    // Production runs at `log`; the access log's cost is left out of the figure on purpose, and the server's
    // "listening" line (a `log` line) is not needed: readiness is polled on /health.
    LEDGER_LOG_LEVEL: 'warn',
    ...options.serverEnv,
  });

  const startedMs = performance.now();
  const server = new TrackedChild(
    spawn(process.execPath, [...(options.serverNodeArgs ?? []), SERVER_ENTRY], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  try {
    await waitUntilHealthy(server, url, signal);
    const startSeconds = (performance.now() - startedMs) / 1_000;

    const setupStartedMs = performance.now();
    await setUpAccounts(url, keys, attester, options);
    const setupSeconds = (performance.now() - setupStartedMs) / 1_000;

    const warmupRequests = options.warmupRequests ?? 0;
    if (warmupRequests > 0) {
      signal?.throwIfAborted();
      const warmup = await runLoadChild(
        { url, serviceKey: keys.service, accounts, requests: warmupRequests, connections: Math.min(connections, warmupRequests), idPrefix: 'warm', attesterKey },
        options,
      );
      if (warmup.non2xx > 0 || warmup.errors > 0) {
        throw new Error(`bench: the warm-up got ${warmup.non2xx} non-2xx answers and ${warmup.errors} errors (${JSON.stringify(warmup.statusCodes)})`);
      }
    }
    signal?.throwIfAborted();
    const result = await runLoadChild({ url, serviceKey: keys.service, accounts, requests, connections, idPrefix: 'hw', attesterKey }, options);
    if (!server.running) throw new Error(`bench: the server exited (${String(await server.exited)}) during the load:\n${server.tail()}`);

    const serverExitCode = await server.stop(STOP_TIMEOUT_MS);
    return {
      requests: result.requests,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodes: result.statusCodes,
      requestsPerSecond: result.requestsPerSecond,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      meanMs: result.meanMs,
      maxMs: result.maxMs,
      autocannonP50Ms: result.autocannonP50Ms,
      autocannonP99Ms: result.autocannonP99Ms,
      seconds: result.seconds,
      setupSeconds: Math.round(setupSeconds * 1_000) / 1_000,
      startSeconds: Math.round(startSeconds * 1_000) / 1_000,
      connections,
      accounts,
      warmupRequests,
      serverExitCode,
    };
  } finally {
    if (server.running) {
      // A failure or an abort: still a SIGTERM first (so that a --cpu-prof profile is written), then SIGKILL.
      await server.stop(STOP_TIMEOUT_MS);
    }
  }
}
