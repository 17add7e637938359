import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiKeyRing, Principal, Role } from '@app/access';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contextOf } from '../http/request-context';
import { PUBLIC_KEY, ROLES_KEY } from '../http/roles.decorator';
import { FailedAuthenticationLimiter } from './failed-authentication-limiter';

export const API_KEY_RING = Symbol('API_KEY_RING');

export type AuthenticatedRequest = FastifyRequest & { actor?: Principal };

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([^\s]+)$/.exec(header);
  return match?.[1];
}

/**
 * Deny by default (the access-control issue): every route declares the roles it allows, or is marked public.
 * A missing or unknown key is 401; a known key whose role the route does not allow is 403; a route that declares
 * no roles is refused to everyone. Runs before any pipe or handler, so nothing is appended on a refusal.
 */
/** What a route declares about access, read from its decorators once per handler rather than once per request. */
interface RouteAccess {
  readonly isPublic: boolean;
  readonly roles: readonly Role[];
}

@Injectable()
export class AccessGuard implements CanActivate {
  private readonly failures = new FailedAuthenticationLimiter();
  /** By controller class, then handler: a handler inherited by two controllers may be declared differently on each. */
  private readonly routes = new WeakMap<object, WeakMap<object, RouteAccess>>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(API_KEY_RING) private readonly keys: ApiKeyRing,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.accessOf(context);
    if (route.isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(request);
    const client = String(request.ip);
    if (token !== undefined) this.refuseIfFailingTooOften(client, context);
    const principal = token === undefined ? undefined : await this.keys.authenticate(token);
    if (token !== undefined && !principal) this.failures.recordFailure(client);
    if (!principal) {
      context.switchToHttp().getResponse<FastifyReply>().header('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedException(token === undefined ? 'an API key is required: Authorization: Bearer <key>' : 'unknown API key');
    }
    request.actor = principal;
    const requestContext = contextOf(request);
    if (requestContext) requestContext.actorId = principal.id;
    const allowed = route.roles;
    if (allowed.length === 0) throw new ForbiddenException('this route declares no roles, so it is refused to every key');
    if (!allowed.includes(principal.role)) {
      throw new ForbiddenException(`the ${principal.role} role may not use this route (allowed: ${allowed.join(', ')})`);
    }
    return true;
  }

  private accessOf(context: ExecutionContext): RouteAccess {
    const handler = context.getHandler();
    const controller = context.getClass();
    let handlers = this.routes.get(controller);
    if (handlers === undefined) this.routes.set(controller, (handlers = new WeakMap()));
    let access = handlers.get(handler);
    if (access === undefined) {
      const targets = [handler, controller];
      access = {
        isPublic: this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets) === true,
        roles: this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [],
      };
      handlers.set(handler, access);
    }
    return access;
  }

  private refuseIfFailingTooOften(client: string, context: ExecutionContext): void {
    const waitMs = this.failures.retryAfterMs(client);
    if (waitMs <= 0) return;
    const seconds = Math.max(1, Math.ceil(waitMs / 1_000));
    context.switchToHttp().getResponse<FastifyReply>().header('Retry-After', String(seconds));
    throw new HttpException(
      { message: `too many failed authentications from this address: retry after ${seconds} s`, code: 'TOO_MANY_FAILED_AUTHENTICATIONS' },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
