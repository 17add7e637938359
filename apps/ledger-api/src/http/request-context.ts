import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { ConsoleLogger, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Per-request facts every log line of that request carries. */
export interface RequestContext {
  readonly requestId: string;
  actorId?: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();
const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The context of each request, for the access log (its line is written after the request's async scope). */
const contexts = new WeakMap<FastifyRequest, RequestContext>();

/**
 * A request id on every response (X-Request-Id: the caller's when well-formed, a new one otherwise); `next` and all
 * it leads to (guards, the handler, their log lines) run with the request's context.
 */
export function assignRequestId(request: FastifyRequest, reply: FastifyReply, next: () => void): void {
  const incoming = request.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  reply.header('X-Request-Id', requestId);
  const context: RequestContext = { requestId };
  contexts.set(request, context);
  requestContext.run(context, next);
}

const accessLogger = new Logger('HTTP');

/** One line per request once it is answered (Fastify's onResponse): method, path, status, time and the key id (never the key). */
export function accessLog(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const context = contexts.get(request);
  const actor = context?.actorId ?? '-';
  const line = `${request.method} ${request.url.split('?')[0]} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms key=${actor}`;
  if (context) requestContext.run(context, () => accessLogger.log(line));
  else accessLogger.log(line);
  done();
}

/** Nest's console logger with the request id (and key id) of the current request in front of each line. */
export class RequestAwareLogger extends ConsoleLogger {
  protected override formatMessage(...args: Parameters<ConsoleLogger['formatMessage']>): string {
    const context = requestContext.getStore();
    if (context && typeof args[1] === 'string') args[1] = `[req ${context.requestId}] ${args[1]}`;
    return super.formatMessage(...args);
  }
}
