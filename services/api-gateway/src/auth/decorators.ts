import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser, Role } from './auth.types';

export { IS_PUBLIC, Public } from '@bible/common';
export const REQUIRED_ROLE = 'auth:role';
/** Minimum role for a route (`editor` or `admin`); every other route needs any valid token. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

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
