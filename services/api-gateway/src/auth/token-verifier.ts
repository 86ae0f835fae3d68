import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { AppError, ErrorCode } from '@bible/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { ROLES, type AuthUser, type Role } from './auth.types';

/** Verifies bearer JWTs: HS256 with a shared secret, or RS256/ES256 keys from a JWKS URL. */
@Injectable()
export class TokenVerifier {
  private readonly secret?: Uint8Array;
  private readonly jwks?: JWTVerifyGetKey;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    if (config.JWT_JWKS_URL) this.jwks = createRemoteJWKSet(new URL(config.JWT_JWKS_URL));
    else if (config.JWT_SECRET) this.secret = new TextEncoder().encode(config.JWT_SECRET);
  }

  async verify(token: string): Promise<AuthUser> {
    try {
      const options = {
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        clockTolerance: 30,
      };
      const { payload } = this.jwks
        ? await jwtVerify(token, this.jwks, { ...options, algorithms: ['RS256', 'ES256'] })
        : await jwtVerify(token, this.secret as Uint8Array, { ...options, algorithms: ['HS256'] });
      const role = (payload.role ?? 'user') as Role;
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
        throw new Error('token has no valid sub claim');
      }
      if (!ROLES.includes(role)) throw new Error(`token role is not one of ${ROLES.join(', ')}`);
      return { id: payload.sub, role };
    } catch (error) {
      throw new AppError(401, ErrorCode.Unauthorized, `Invalid token: ${(error as Error).message}`);
    }
  }
}
