import { createHash } from 'node:crypto';
import { BadRequestException, createParamDecorator, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { canonicalJson } from '@app/event-store';
import { freshCommand, idempotentCommand, type Actor, type CommandMetadata } from '@app/ledger';
import type { FastifyRequest } from 'fastify';

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const CORRELATION_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The actor of a request: the authenticated key's id and role (AccessGuard ran first); never the key. */
export function actorOf(request: FastifyRequest): Actor {
  const principal = (request as FastifyRequest & { actor?: Actor }).actor;
  if (!principal) throw new UnauthorizedException('an API key is required: Authorization: Bearer <key>');
  return principal;
}

/**
 * The path as the router matched it: without the query or trailing slashes (the router treats `/v1/accounts/` as
 * `/v1/accounts`, so a retry that adds a slash is the same request, and is answered as a replay).
 */
export function normalisedPath(originalUrl: string): string {
  const path = originalUrl.split('?', 1)[0]!;
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** SHA-256 of what makes two requests the same command: method, path (normalised) and body. */
export function requestHash(request: FastifyRequest): string {
  const path = normalisedPath(request.originalUrl);
  return createHash('sha256').update(canonicalJson({ method: request.method, path, body: request.body ?? null })).digest('hex');
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Builds a command's metadata from the request: the actor, the correlation id (X-Correlation-Id or the request
 * id), and, with an Idempotency-Key header, the scoped key and the request's hash.
 */
export const CommandMeta = createParamDecorator((_data: unknown, ctx: ExecutionContext): CommandMetadata => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  const actor = actorOf(request);
  const correlation = headerValue(request, 'x-correlation-id');
  if (correlation !== undefined && !CORRELATION_ID_PATTERN.test(correlation)) {
    throw new BadRequestException({ message: 'validation failed', errors: [{ field: 'X-Correlation-Id', reasons: ['must be 1 to 128 of A-Z a-z 0-9 _ . : -'] }] });
  }
  const key = headerValue(request, 'idempotency-key');
  if (key === undefined) return freshCommand(actor, correlation);
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new BadRequestException({ message: 'validation failed', errors: [{ field: 'Idempotency-Key', reasons: ['must be 1 to 128 of A-Z a-z 0-9 _ . : -'] }] });
  }
  return idempotentCommand(actor, key, requestHash(request), correlation);
});
