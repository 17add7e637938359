import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { ConsoleLogger, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Per-request facts every log line of that request carries. */
export interface RequestContext {
  readonly requestId: string;
  actorId?: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();
const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** A request id on every response (X-Request-Id: the caller's when well-formed, a new one otherwise). */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', requestId);
  requestContext.run({ requestId }, next);
}

/** One line per request once it is answered: method, path, status, time and the key id (never the key). */
export function accessLogMiddleware(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  const logger = new Logger('HTTP');
  res.once('finish', () => {
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const actor = requestContext.getStore()?.actorId ?? '-';
    logger.log(`${req.method} ${req.originalUrl.split('?')[0]} ${res.statusCode} ${elapsedMs.toFixed(1)}ms key=${actor}`);
  });
  next();
}

/** Nest's console logger with the request id (and key id) of the current request in front of each line. */
export class RequestAwareLogger extends ConsoleLogger {
  protected override formatMessage(...args: Parameters<ConsoleLogger['formatMessage']>): string {
    const context = requestContext.getStore();
    if (context && typeof args[1] === 'string') args[1] = `[req ${context.requestId}] ${args[1]}`;
    return super.formatMessage(...args);
  }
}
