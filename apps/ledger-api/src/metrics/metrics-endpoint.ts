import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { UnauthorizedException, type INestApplicationContext } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import type { ApiKeyRing } from '@app/access';
import type { MetricsConfig } from '@app/ledger';
import { ProjectionRunner } from '@app/projections';
import type { FastifyInstance } from 'fastify';
import { toErrorResponse } from '../http/exception.filter';
import { LedgerMetrics } from './ledger-metrics';

export const METRICS_PATH = '/metrics';

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** True when no token is configured, or the request carries it as a bearer token (compared in constant time). */
function scrapeAllowed(expectedDigest: Buffer | null, headers: IncomingHttpHeaders): boolean {
  if (expectedDigest === null) return true;
  const match = /^Bearer ([^\s]+)$/.exec(headers.authorization ?? '');
  return match !== null && timingSafeEqual(sha256(match[1]!), expectedDigest);
}

interface ScrapeAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

async function scrape(metrics: LedgerMetrics, expectedDigest: Buffer | null, headers: IncomingHttpHeaders): Promise<ScrapeAnswer> {
  if (!scrapeAllowed(expectedDigest, headers)) {
    const refusal = toErrorResponse(new UnauthorizedException('the metrics scrape token is required: Authorization: Bearer <LEDGER_METRICS_TOKEN>'));
    return { status: 401, headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' }, body: JSON.stringify(refusal) };
  }
  return { status: 200, headers: { 'content-type': metrics.registry.contentType }, body: await metrics.registry.metrics() };
}

/** A listener of its own for /metrics (LEDGER_METRICS_PORT), on the API's host; closed when the app closes. */
async function listenSeparately(fastify: FastifyInstance, port: number, host: string, answer: (headers: IncomingHttpHeaders) => Promise<ScrapeAnswer>): Promise<void> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== METRICS_PATH) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served on this port\n');
      return;
    }
    answer(request.headers).then(
      (scraped) => response.writeHead(scraped.status, { ...scraped.headers, 'cache-control': 'no-store' }).end(scraped.body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  fastify.addHook('onClose', (_instance, done) => server.close(() => done()));
}

/**
 * Prometheus metrics (issue 14): counted by hooks on every route from now on (call before the app registers its
 * routes), served at /metrics on the API's port behind the scrape token, or on a port of their own.
 */
export async function installMetrics(app: INestApplicationContext, fastify: FastifyInstance, config: MetricsConfig, host: string, keyRing: ApiKeyRing): Promise<LedgerMetrics> {
  const metrics = new LedgerMetrics({ store: app.get<EventStore>(EVENT_STORE), projections: app.get(ProjectionRunner), keyRing });
  fastify.addHook('onRoute', metrics.instrumentRoute);
  fastify.addHook('onResponse', metrics.observeUnmatched);
  const expectedDigest = config.token === null ? null : sha256(config.token);
  const answer = (headers: IncomingHttpHeaders) => scrape(metrics, expectedDigest, headers);
  if (config.port !== null) {
    await listenSeparately(fastify, config.port, host, answer);
    return metrics;
  }
  fastify.get(METRICS_PATH, async (request, reply) => {
    const scraped = await answer(request.headers);
    return reply.status(scraped.status).headers({ ...scraped.headers, 'cache-control': 'no-store' }).send(scraped.body);
  });
  return metrics;
}
