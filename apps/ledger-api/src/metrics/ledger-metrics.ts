import type { EventStore } from '@app/event-store';
import type { ApiKeyRing } from '@app/access';
import type { ProjectionRunner, ProjectionStatus } from '@app/projections';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { contextOf } from '../http/request-context';

/** Request latency buckets, in seconds: a command on the embedded store takes about a millisecond. */
const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Store commit buckets, in seconds: an fsync on an SSD takes from a few hundred microseconds to a few milliseconds. */
const COMMIT_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Appends (or events) per group commit: powers of two up to the store's bound. */
const GROUP_COMMIT_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
/** The route label of requests that matched no route, so that scanners cannot grow the label set. */
const UNMATCHED_ROUTE = '(unmatched)';

export interface MetricsSources {
  readonly store: EventStore;
  readonly projections: ProjectionRunner;
  readonly keyRing: ApiKeyRing;
}

type RequestCounter = Counter<'method' | 'route' | 'status'>;
type ResponseHook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => void;

/**
 * One route's instruments, made when the route is registered: answering a request then costs a histogram
 * observation, a counter increment and one small Map lookup by status code (no label strings built per request).
 */
class RouteInstruments {
  private readonly byStatus = new Map<number, Counter.Internal>();
  private readonly latency: Histogram.Internal<'method' | 'route'>;

  constructor(
    private readonly metrics: LedgerMetrics,
    private readonly requests: RequestCounter,
    latency: Histogram<'method' | 'route'>,
    private readonly method: string,
    private readonly route: string,
  ) {
    this.latency = latency.labels(method, route);
  }

  observe(request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    let counter = this.byStatus.get(status);
    if (counter === undefined) {
      counter = this.requests.labels(this.method, this.route, String(status));
      this.byStatus.set(status, counter);
    }
    counter.inc();
    this.latency.observe(reply.elapsedTime / 1_000);
    if (status === 429) this.metrics.countRateLimitRefusal(request);
  }
}

/**
 * The ledger's Prometheus metrics (prom-client), in a registry of their own. Request metrics are counted by hooks
 * on each route; the store reports each group commit; projection lag, the head and key-file reloads are read when
 * scraped, so they cost nothing between scrapes.
 */
export class LedgerMetrics {
  readonly registry = new Registry();
  private readonly requests: RequestCounter;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly rateLimitRefusals: Counter<'limit'>;
  private readonly commitAppends: Histogram;
  private readonly commitEvents: Histogram;
  private readonly appendSeconds: Histogram;
  private readonly fsyncSeconds: Histogram;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'ledger_http_requests_total',
      help: 'HTTP requests answered, by method, route (the template, such as /v1/accounts/:id/deposits) and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'ledger_http_request_duration_seconds',
      help: 'Time from receiving a request to sending its answer, by method and route',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.rateLimitRefusals = new Counter({
      name: 'ledger_rate_limit_refusals_total',
      help: 'Requests refused with 429: limit="key" over an API key\'s rate, limit="address" too many wrong keys (or open routes) from one address',
      labelNames: ['limit'],
      registers,
    });
    this.commitAppends = new Histogram({ name: 'ledger_event_store_group_commit_appends', help: 'Appends per durable commit (group commit)', buckets: GROUP_COMMIT_SIZE_BUCKETS, registers });
    this.commitEvents = new Histogram({ name: 'ledger_event_store_group_commit_events', help: 'Events per durable commit', buckets: GROUP_COMMIT_SIZE_BUCKETS, registers });
    this.appendSeconds = new Histogram({ name: 'ledger_event_store_append_seconds', help: 'Time of one commit\'s whole write transaction (checks, inserts and COMMIT)', buckets: COMMIT_BUCKETS_SECONDS, registers });
    this.fsyncSeconds = new Histogram({ name: 'ledger_event_store_fsync_seconds', help: 'Time of the COMMIT statement, where the store waits for the fsync', buckets: COMMIT_BUCKETS_SECONDS, registers });
    sources.store.observeCommits?.((appends, events, transactionMs, commitMs) => {
      this.commitAppends.observe(appends);
      this.commitEvents.observe(events);
      this.appendSeconds.observe(transactionMs / 1_000);
      this.fsyncSeconds.observe(commitMs / 1_000);
    });
    this.registerScrapeTimeGauges(sources);
  }

  /** Fastify's onRoute hook: gives the route its own instruments and a response hook that feeds them. */
  readonly instrumentRoute = (route: RouteOptions): void => {
    const methods = [route.method].flat();
    const instruments = new Map(methods.map((method) => [method, new RouteInstruments(this, this.requests, this.latency, method, route.url)]));
    const hook: ResponseHook = (request, reply, done) => {
      instruments.get(request.method)?.observe(request, reply);
      done();
    };
    route.onResponse = [...[route.onResponse ?? []].flat(), hook] as RouteOptions['onResponse'];
  };

  /** The global onResponse hook: only requests that matched no route (the routes' own hooks count the others). */
  readonly observeUnmatched: ResponseHook = (request, reply, done) => {
    if (request.is404) this.unmatched(request.method).observe(request, reply);
    done();
  };

  private readonly unmatchedByMethod = new Map<string, RouteInstruments>();

  private unmatched(method: string): RouteInstruments {
    let instruments = this.unmatchedByMethod.get(method);
    if (instruments === undefined) {
      instruments = new RouteInstruments(this, this.requests, this.latency, method, UNMATCHED_ROUTE);
      // Node's parser admits a fixed set of methods, so this map stays small.
      this.unmatchedByMethod.set(method, instruments);
    }
    return instruments;
  }

  countRateLimitRefusal(request: FastifyRequest): void {
    // The key throttler runs after authentication; the failed-authentication limiter refuses before it.
    this.rateLimitRefusals.inc({ limit: contextOf(request)?.actorId === undefined ? 'address' : 'key' });
  }

  private registerScrapeTimeGauges({ projections, keyRing }: MetricsSources): void {
    const registers = [this.registry];
    // The registry collects every metric at once: the gauges of one scrape share one read of the status.
    let pending: Promise<ProjectionStatus[] | null> | undefined;
    const statusOfThisScrape = (): Promise<ProjectionStatus[] | null> =>
      (pending ??= projections.status().then(
        (statuses) => statuses,
        () => null,
      ).finally(() => (pending = undefined)));
    new Gauge({
      name: 'ledger_metrics_scrape_status_ok',
      help: '1 when this scrape could read the store\'s head and the projections\' checkpoints, 0 otherwise',
      registers,
      async collect() {
        this.set((await statusOfThisScrape()) === null ? 0 : 1);
      },
    });
    new Gauge({
      name: 'ledger_event_store_head_position',
      help: 'The global position of the last event in the log',
      registers,
      async collect() {
        const statuses = await statusOfThisScrape();
        if (statuses !== null) this.set(Number(statuses[0]?.headPosition ?? 0n));
      },
    });
    new Gauge({
      name: 'ledger_projection_lag_events',
      help: 'Log positions between a projection\'s checkpoint and the head',
      labelNames: ['projection'],
      registers,
      async collect() {
        for (const status of (await statusOfThisScrape()) ?? []) this.set({ projection: status.name }, Number(status.lagEvents));
      },
    });
    new Gauge({
      name: 'ledger_projection_lag_seconds',
      help: 'How long a projection has been behind the head (0 when caught up)',
      labelNames: ['projection'],
      registers,
      async collect() {
        for (const status of (await statusOfThisScrape()) ?? []) this.set({ projection: status.name }, status.lagSeconds);
      },
    });
    let reloadsSeen = 0;
    new Counter({
      name: 'ledger_api_key_file_reloads_total',
      help: 'Times the generated-key file was read again because it changed (a key created or revoked by the CLI)',
      registers,
      collect() {
        const reloads = keyRing.reloads;
        if (reloads > reloadsSeen) this.inc(reloads - reloadsSeen);
        reloadsSeen = reloads;
      },
    });
  }
}
