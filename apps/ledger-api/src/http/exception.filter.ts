import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import { DomainError, type DomainErrorCode } from '@app/domain';
import { DuplicateEventIdError, EventStoreError, InvalidAppendError, isTransientStoreFailure } from '@app/event-store';
import { ConcurrencyConflictError, IdempotencyConflictError, StreamBusyError } from '@app/ledger';
import { QueryError } from '@app/projections';
import { BODY_LIMIT_BYTES, MalformedBodyError, RefusedBodyError } from './json-body';
import { requestLine } from './request-context';
import type { FastifyReply, FastifyRequest } from 'fastify';

const NOT_FOUND_CODES: ReadonlySet<DomainErrorCode> = new Set(['ACCOUNT_NOT_FOUND', 'WITHDRAWAL_NOT_FOUND', 'INCIDENT_NOT_FOUND', 'RISK_ALERT_NOT_FOUND']);

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code?: string;
  errors?: unknown;
}

function body(status: number, message: string, extra: Partial<ErrorBody> = {}): ErrorBody {
  const error = (HttpStatus[status] ?? 'Error').toLowerCase().replace(/(^|_)(\w)/g, (_m, sep: string, c: string) => (sep ? ' ' : '') + c.toUpperCase());
  return { statusCode: status, error, message, ...extra };
}

/**
 * Maps an error to the API's status codes: 400 invalid input (every failing field named), 401/403 access, 404 unknown,
 * 409 conflict, 422 a business rule refused it (with its code). Responses never carry a stack trace.
 */
export function toErrorResponse(exception: unknown): ErrorBody {
  if (exception instanceof DomainError) {
    const status = NOT_FOUND_CODES.has(exception.code) ? HttpStatus.NOT_FOUND : HttpStatus.UNPROCESSABLE_ENTITY;
    return body(status, exception.message, { code: exception.code });
  }
  if (exception instanceof IdempotencyConflictError || exception instanceof ConcurrencyConflictError) {
    return body(HttpStatus.CONFLICT, exception.message, { code: exception.code });
  }
  if (exception instanceof QueryError) {
    const field = exception.code === 'PAGE_LIMIT_OUT_OF_RANGE' ? 'limit' : exception.code === 'INVALID_CURSOR' ? 'cursor' : 'query';
    return body(HttpStatus.BAD_REQUEST, 'validation failed', { code: exception.code, errors: [{ field, reasons: [exception.message] }] });
  }
  if (exception instanceof InvalidAppendError) return body(HttpStatus.BAD_REQUEST, exception.message, { code: exception.code });
  if (exception instanceof DuplicateEventIdError) return body(HttpStatus.CONFLICT, exception.message, { code: exception.code });
  if (exception instanceof StreamBusyError) return body(HttpStatus.SERVICE_UNAVAILABLE, exception.message, { code: exception.code });
  if (isTransientStoreFailure(exception)) {
    const message = 'the event store is unavailable for a moment (busy, full or reconnecting): send the command again, with the same Idempotency-Key';
    return body(HttpStatus.SERVICE_UNAVAILABLE, message, { code: 'STORE_UNAVAILABLE' });
  }
  const body400 = bodyError(exception);
  if (body400) return body400;
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    const status = exception.getStatus();
    if (typeof response === 'string') return body(status, response);
    const { message, errors, code } = response as { message?: unknown; errors?: unknown; code?: string };
    return body(status, Array.isArray(message) ? message.join('; ') : String(message ?? exception.message), { errors, code });
  }
  return body(HttpStatus.INTERNAL_SERVER_ERROR, 'internal error');
}

/** Errors met while reading the body (Fastify's and the JSON parser's), in the shape every other 4xx has. */
function bodyError(exception: unknown): ErrorBody | null {
  if (exception instanceof RefusedBodyError) {
    return body(exception.status, 'validation failed', { errors: [{ field: exception.field, reasons: [exception.reason] }] });
  }
  if (exception instanceof MalformedBodyError) return body(400, exception.message, { errors: [{ field: 'body', reasons: [exception.message] }] });
  const failure = exception as { code?: unknown; statusCode?: unknown } | null;
  if (!(exception instanceof Error) || typeof failure?.code !== 'string' || !failure.code.startsWith('FST_')) return null;
  if (failure.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return body(413, `request body must be at most ${BODY_LIMIT_BYTES} bytes`);
  const status = typeof failure.statusCode === 'number' && failure.statusCode >= 400 && failure.statusCode < 500 ? failure.statusCode : 400;
  const message = 'request body could not be read';
  return body(status, message, { errors: [{ field: 'body', reasons: [message] }] });
}

@Catch()
export class LedgerExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest | undefined>();
    const payload = toErrorResponse(exception);
    if (payload.statusCode >= 500 && !(exception instanceof StreamBusyError)) {
      const detail = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      this.logger.error(requestLine(request, detail));
    }
    if (exception instanceof EventStoreError) this.logger.warn(requestLine(request, `event store refused an append: ${exception.message}`));
    if (payload.statusCode === HttpStatus.SERVICE_UNAVAILABLE) response.header('Retry-After', '1');
    void response.status(payload.statusCode).send(payload);
  }
}
