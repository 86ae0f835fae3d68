import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppError, ErrorCode, IS_OPERABILITY } from '@bible/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { RateLimiter } from './rate-limiter';
import {
  type Limit,
  type RateLimitBucket,
  mostRestrictive,
  rateLimitHeaders,
} from './rate-limit.rules';

const RATE_LIMIT = 'rate-limit:bucket';
/** Applies a contract rate-limit bucket to a route or controller (default: a generous per-IP cap). */
export const RateLimit = (bucket: RateLimitBucket) => SetMetadata(RATE_LIMIT, bucket);

const HOUR = 3600;

@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly limits: Record<RateLimitBucket, Limit[]>;

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.limits = {
      builds: [
        { scope: 'user', limit: config.RATE_LIMIT_BUILDS_PER_USER_HOUR, windowSeconds: HOUR },
        { scope: 'ip', limit: config.RATE_LIMIT_BUILDS_PER_IP_HOUR, windowSeconds: HOUR },
      ],
      downloads: [
        { scope: 'user', limit: config.RATE_LIMIT_DOWNLOADS_PER_USER_HOUR, windowSeconds: HOUR },
        { scope: 'ip', limit: config.RATE_LIMIT_DOWNLOADS_PER_IP_HOUR, windowSeconds: HOUR },
      ],
      sync: [{ scope: 'user', limit: config.RATE_LIMIT_SYNC_PER_USER_HOUR, windowSeconds: HOUR }],
      default: [{ scope: 'ip', limit: config.RATE_LIMIT_DEFAULT_PER_IP_HOUR, windowSeconds: HOUR }],
    };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_OPERABILITY, targets)) return true;
    const bucket =
      this.reflector.getAllAndOverride<RateLimitBucket | undefined>(RATE_LIMIT, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'default';
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    const subjects = this.limits[bucket]
      .map((limit) => ({ limit, subject: limit.scope === 'user' ? req.user?.id : req.ip }))
      .filter((s): s is { limit: Limit; subject: string } => typeof s.subject === 'string');
    if (subjects.length === 0) return true;

    const states = await this.limiter.hit(bucket, subjects);
    if (!states) return true;
    const blocked = states.filter((s) => !s.allowed);
    const state = mostRestrictive(blocked.length > 0 ? blocked : states);
    const headers = rateLimitHeaders(state, blocked.length > 0);
    if (blocked.length > 0) {
      throw new AppError(
        429,
        ErrorCode.RateLimited,
        `Rate limit exceeded for ${bucket}; retry after ${headers['Retry-After']} s`,
        [],
        headers,
      );
    }
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    return true;
  }
}
