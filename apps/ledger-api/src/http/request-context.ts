import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Per-request facts every log line of that request carries. */
export interface RequestContext {
  readonly requestId: string;
  actorId?: string;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Each request's context, kept beside the request rather than in an AsyncLocalStorage: the few places that log for
 * a request (the access log, the exception filter, the access guard naming the key) all hold the request, and an
 * AsyncLocalStorage would make Node run a hook on every promise of every command.
 */
const contexts = new WeakMap<FastifyRequest, RequestContext>();

export function contextOf(request: FastifyRequest): RequestContext | undefined {
  return contexts.get(request);
}

/** A request id on every response (X-Request-Id: the caller's when well-formed, a new one otherwise). */
export function assignRequestId(request: FastifyRequest, reply: FastifyReply): void {
  const incoming = request.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  reply.header('X-Request-Id', requestId);
  contexts.set(request, { requestId });
}

/** How a request's log lines start: `[req <id>] ` (the JSON logger turns it back into a field). */
export const REQUEST_LINE_PREFIX = '[req ';

/** A log line of a request: its request id in front. */
export function requestLine(request: FastifyRequest | undefined, message: string): string {
  const context = request === undefined ? undefined : contexts.get(request);
  return context === undefined ? message : `${REQUEST_LINE_PREFIX}${context.requestId}] ${message}`;
}

const accessLogger = new Logger('HTTP');

/** One line per request once it is answered (Fastify's onResponse): method, path, status, time and the key id (never the key). */
export function accessLog(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const actor = contexts.get(request)?.actorId ?? '-';
  accessLogger.log(requestLine(request, `${request.method} ${request.url.split('?')[0]} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms key=${actor}`));
  done();
}
