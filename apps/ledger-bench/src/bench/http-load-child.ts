import type { EventEmitter } from 'node:events';
import { HTTP_PLAN_VARIABLE, httpWithdrawalRequest, planAttester, type HttpLoadPlan, type HttpLoadResult } from './http';

/**
 * `BENCH_HTTP_PLAN='{...}' node http-load-child.js`: autocannon against the server named in the plan, in a process of
 * its own so that the load generator never shares an event loop with the server or the bench. Sends exactly
 * `requests` POST withdrawal requests over `connections` keep-alive connections, round-robin over the accounts, each
 * with a withdrawal id of its own, and prints one JSON line (HttpLoadResult).
 */

/** The part of autocannon 8's programmatic API used here (it ships no type declarations). */
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
}

interface AutocannonHistogram {
  readonly average: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

interface AutocannonResult {
  readonly latency: AutocannonHistogram;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly requests: AutocannonHistogram & { readonly total: number; readonly sent: number };
  readonly statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonOptions {
  url: string;
  connections: number;
  amount: number;
  pipelining?: number;
  timeout?: number;
  method?: string;
  headers?: Record<string, string>;
  requests?: AutocannonRequest[];
}

type Autocannon = (options: AutocannonOptions, done: (error: Error | null, result: AutocannonResult) => void) => EventEmitter;

const autocannon = require('autocannon') as Autocannon;

function readPlan(): HttpLoadPlan {
  const raw = process.env[HTTP_PLAN_VARIABLE];
  if (raw === undefined) throw new Error(`${HTTP_PLAN_VARIABLE} is not set`);
  const plan = JSON.parse(raw) as HttpLoadPlan;
  if (typeof plan.idPrefix !== 'string' || !/^[A-Za-z0-9_-]{1,16}$/.test(plan.idPrefix)) throw new Error(`${HTTP_PLAN_VARIABLE}.idPrefix must be 1 to 16 id characters`);
  if (typeof plan.attesterKey !== 'string') throw new Error(`${HTTP_PLAN_VARIABLE}.attesterKey must be the attester's private JWK`);
  for (const field of ['accounts', 'requests', 'connections'] as const) {
    if (!Number.isInteger(plan[field]) || plan[field] < 1) throw new Error(`${HTTP_PLAN_VARIABLE}.${field} must be a positive whole number`);
  }
  return plan;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

async function main(): Promise<void> {
  // Spawned with an IPC channel: when the bench process dies, the channel closes and this load stops with it.
  if (process.send) process.once('disconnect', () => process.exit(2));
  const plan = readPlan();
  // Signed before the load, as the authentication service would have signed them before the requests were sent:
  // the figure is the ledger's work per request, verification included, not the load generator's signing.
  // autocannon builds up to one request per connection that it never sends: those get proofs too.
  const attester = planAttester(plan);
  const prepared: Array<{ path: string; body: string }> = [];
  for (let i = 0; i < plan.requests + plan.connections; i += 1) prepared.push(await httpWithdrawalRequest(attester, i, plan.accounts, plan.idPrefix));
  let next = 0;
  const durations: number[] = [];
  let lastResponseMs = 0;
  const startedMs = performance.now();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: plan.url,
        connections: plan.connections,
        amount: plan.requests,
        pipelining: 1,
        timeout: 30,
        method: 'POST',
        headers: { authorization: `Bearer ${plan.serviceKey}`, 'content-type': 'application/json' },
        requests: [
          {
            // Called once per request, as it is built: a global counter gives round-robin accounts and unique ids.
            // (autocannon builds each connection's next request when the previous answer arrives, so a few ids
            // at the very end are built and never sent; they are unique all the same.)
            setupRequest: (request) => {
              const { path, body } = prepared[Math.min(next, prepared.length - 1)]!;
              next += 1;
              return { ...request, method: 'POST', path, body };
            },
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => {
      durations.push(responseTimeMs);
      lastResponseMs = performance.now();
    });
  });
  // autocannon reports its result at its next 1-second sample tick, so its `duration` can run up to a second past
  // the last answer: the rate is taken from the first request to the last response instead.
  const seconds = lastResponseMs > startedMs ? (lastResponseMs - startedMs) / 1_000 : 0;
  durations.sort((a, b) => a - b);
  const statusCodes: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) statusCodes[status] = count;
  const out: HttpLoadResult = {
    requests: durations.length,
    sent: result.requests.sent,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    seconds: Math.round(seconds * 1_000) / 1_000,
    requestsPerSecond: seconds > 0 ? Math.round(durations.length / seconds) : 0,
    p50Ms: round2(percentile(durations, 50)),
    p99Ms: round2(percentile(durations, 99)),
    meanMs: round2(durations.reduce((sum, value) => sum + value, 0) / Math.max(1, durations.length)),
    maxMs: round2(durations[durations.length - 1] ?? 0),
    autocannonP50Ms: result.latency.p50,
    autocannonP99Ms: result.latency.p99,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`http-load-child: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
