import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser, Role } from './auth.types';

export { IS_PUBLIC, Public } from '@bible/common';
export const REQUIRED_ROLE = 'auth:role';
/**
 * Role a route needs (`editor`, `admin`; several: any of them, e.g. `admin` or `service`); every
 * other route needs any valid token.
 */
export const RequireRole = (...roles: [Role, ...Role[]]) => SetMetadata(REQUIRED_ROLE, roles);

declare module 'express-serve-static-core' {
  interface Request {
    user?: AuthUser;
  }
}

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  const user = ctx.switchToHttp().getRequest<Request>().user;
  if (!user) throw new Error('CurrentUser used on a public route');
  return user;
});
