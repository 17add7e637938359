import type { LoggerService, LogLevel } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contextOf, REQUEST_LINE_PREFIX } from './request-context';

/** Nest's levels as pino's; Nest's `log` is pino's `info`. */
const PINO_LEVEL: Record<LogLevel, pino.Level> = { fatal: 'fatal', error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };
/** The most detailed level in the list decides pino's threshold (each LEDGER_LOG_LEVEL includes the ones before it). */
const DETAIL_ORDER: readonly LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];

/** A log line of a request (requestLine's `[req <id>] ` prefix) as its request id and its message. */
function splitRequestLine(message: string): { reqId?: string; msg: string } {
  if (!message.startsWith(REQUEST_LINE_PREFIX)) return { msg: message };
  const end = message.indexOf('] ', REQUEST_LINE_PREFIX.length);
  return end < 0 ? { msg: message } : { reqId: message.slice(REQUEST_LINE_PREFIX.length, end), msg: message.slice(end + 2) };
}

/**
 * LEDGER_LOG_FORMAT=json: one JSON object per line (pino), with `time` (ISO-8601 UTC), `level`, `context` and `msg`,
 * plus `reqId` on a request's lines; the access log adds key id, route, status and duration as fields.
 */
export class JsonLogger implements LoggerService {
  readonly pino: Logger;

  constructor(levels: readonly LogLevel[], destination: DestinationStream = pino.destination({ dest: 1, sync: true })) {
    const mostDetailed = DETAIL_ORDER.find((level) => levels.includes(level)) ?? 'error';
    this.pino = pino(
      {
        level: PINO_LEVEL[mostDetailed],
        base: { service: 'ledger-api' },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    );
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes the logger's context last (and an error's stack before it, for error()). */
  private write(level: LogLevel, message: unknown, rest: readonly unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = level === 'error' && rest.length >= 2 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const { reqId, msg } = splitRequestLine(typeof message === 'string' ? message : message instanceof Error ? message.message : JSON.stringify(message));
    this.pino[PINO_LEVEL[level]]({ context, reqId, stack }, msg);
  }

  /** Fastify's onResponse hook in JSON form: one object per answered request, never the key itself. */
  readonly accessLog = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const context = contextOf(request);
    this.pino.info(
      {
        context: 'HTTP',
        reqId: context?.requestId,
        keyId: context?.actorId ?? null,
        method: request.method,
        route: request.is404 ? null : request.routeOptions.url,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request answered',
    );
    done();
  };
}
