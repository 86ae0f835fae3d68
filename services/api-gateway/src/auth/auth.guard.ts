import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppError, ErrorCode, IS_PUBLIC } from '@bible/common';
import { hasRole, type Role } from './auth.types';
import { REQUIRED_ROLE } from './decorators';
import { TokenVerifier } from './token-verifier';

/** Global guard: every route needs a valid bearer token unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const req = context.switchToHttp().getRequest<Request>();
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets);
    const header = req.header('authorization');
    if (isPublic && !header) return true;

    const match = header ? /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header) : null;
    if (!match) {
      if (isPublic) return true;
      throw new AppError(401, ErrorCode.Unauthorized, 'Missing or malformed bearer token', [
        { field: 'header.authorization', message: 'expected "Bearer <JWT>"' },
      ]);
    }
    req.user = await this.verifier.verify(match[1]);

    const required = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLE, targets);
    const user = req.user;
    if (required && !required.some((role) => hasRole(user, role))) {
      throw new AppError(
        403,
        ErrorCode.Forbidden,
        `This route needs the ${required.join(' or ')} role`,
      );
    }
    return true;
  }
}
