import { HttpException, HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { LEDGER_CONFIG, type LedgerConfig } from '@app/ledger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from './access.guard';
import { RateLimiter } from './rate-limiter';

/**
 * A rate limit per API key across all routes (not per route), `LEDGER_RATE_LIMIT_PER_SECOND` requests per second:
 * runs after AccessGuard, so the client is the key's id; public routes are limited per client address. Every answer
 * says where the key stands (`X-RateLimit-Limit`, `-Remaining`, `-Reset` in seconds); a refusal is 429 with
 * `Retry-After` and the code `RATE_LIMITED`.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly limiter: RateLimiter;
  private readonly limitHeader: string;

  constructor(@Inject(LEDGER_CONFIG) config: LedgerConfig) {
    this.limiter = new RateLimiter(config.rateLimitPerSecond);
    this.limitHeader = String(config.rateLimitPerSecond);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const { actor, ip } = http.getRequest<AuthenticatedRequest>();
    const decision = this.limiter.take(actor ? `key:${actor.id}` : `ip:${String(ip)}`);
    const reply = http.getResponse<FastifyReply>();
    reply.header('X-RateLimit-Limit', this.limitHeader);
    reply.header('X-RateLimit-Remaining', String(decision.remaining));
    reply.header('X-RateLimit-Reset', String(decision.resetSeconds));
    if (decision.allowed) return true;
    reply.header('Retry-After', String(decision.resetSeconds));
    throw new HttpException(
      {
        message: `more than ${this.limitHeader} requests per second ${actor ? 'with this API key' : 'from this address'}: retry after ${decision.resetSeconds} s`,
        code: 'RATE_LIMITED',
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
