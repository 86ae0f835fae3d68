import { createSecretKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { AppError, ErrorCode } from '@bible/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { ROLES, type AuthUser, type Role } from './auth.types';

const CLOCK_TOLERANCE_S = 30;
/** How long a verified token is trusted without verifying again (bounds a JWKS key's removal). */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

/**
 * Verifies bearer JWTs: HS256 with a shared secret, or RS256/ES256 keys from a JWKS URL.
 *
 * A client sends the same token with every request, and verifying its signature was the largest
 * single cost of a cheap request (docs/benchmarks.md, gateway load test). Verified tokens are
 * remembered by their exact string until they expire (at most VERIFIED_TTL_MS); a different
 * string, an expired or a refused token is always verified in full. A Map in insertion order is
 * the whole cache: the oldest entry goes first when it is full.
 */
@Injectable()
export class TokenVerifier {
  private readonly secret?: KeyObject;
  private readonly jwks?: JWTVerifyGetKey;
  private readonly verified = new Map<string, { user: AuthUser; until: number }>();

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    if (config.JWT_JWKS_URL) this.jwks = createRemoteJWKSet(new URL(config.JWT_JWKS_URL));
    else if (config.JWT_SECRET) this.secret = createSecretKey(Buffer.from(config.JWT_SECRET));
  }

  async verify(token: string, now = Date.now()): Promise<AuthUser> {
    const known = this.verified.get(token);
    if (known && known.until > now) return known.user;
    if (known) this.verified.delete(token);
    const { user, exp } = await this.verifySignature(token, now);
    if (this.verified.size >= VERIFIED_MAX) {
      this.verified.delete(this.verified.keys().next().value as string);
    }
    const expiresAt = exp === undefined ? Infinity : (exp + CLOCK_TOLERANCE_S) * 1000;
    this.verified.set(token, { user, until: Math.min(expiresAt, now + VERIFIED_TTL_MS) });
    return user;
  }

  private async verifySignature(
    token: string,
    now: number,
  ): Promise<{ user: AuthUser; exp?: number }> {
    try {
      const options = {
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(now),
      };
      const { payload } = this.jwks
        ? await jwtVerify(token, this.jwks, { ...options, algorithms: ['RS256', 'ES256'] })
        : await jwtVerify(token, this.secret as KeyObject, { ...options, algorithms: ['HS256'] });
      const role = (payload.role ?? 'user') as Role;
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
        throw new Error('token has no valid sub claim');
      }
      if (!ROLES.includes(role)) throw new Error(`token role is not one of ${ROLES.join(', ')}`);
      return { user: { id: payload.sub, role }, exp: payload.exp };
    } catch (error) {
      throw new AppError(401, ErrorCode.Unauthorized, `Invalid token: ${(error as Error).message}`);
    }
  }
}
