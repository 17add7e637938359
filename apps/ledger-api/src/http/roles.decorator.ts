import { SetMetadata } from '@nestjs/common';
import type { Role } from '@app/access';

export const ROLES_KEY = 'ledger:roles';

/**
 * The roles a route allows (each API key has one role). Every route declares them; the access-control guard refuses a route
 * that declares none. `Public()` marks the few open routes (health, docs).
 */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);
export const PUBLIC_KEY = 'ledger:public';
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);
