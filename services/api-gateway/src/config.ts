import { z } from 'zod';
import { baseEnv, databaseEnv, jwtEnv, loadConfig, port, redisEnv, s3Env } from '@bible/common';

export const gatewayEnv = {
  ...baseEnv,
  ...databaseEnv,
  ...redisEnv,
  ...s3Env,
  ...jwtEnv,
  GATEWAY_PORT: port.default(3000),
  /** Comma-separated CIDRs/addresses of proxies whose X-Forwarded-For is trusted (per-IP limits). */
  TRUST_PROXY: z.string().default('loopback'),
  RATE_LIMIT_BUILDS_PER_USER_HOUR: z.coerce.number().int().min(1).default(10),
  RATE_LIMIT_BUILDS_PER_IP_HOUR: z.coerce.number().int().min(1).default(50),
  RATE_LIMIT_DOWNLOADS_PER_USER_HOUR: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_DOWNLOADS_PER_IP_HOUR: z.coerce.number().int().min(1).default(200),
  RATE_LIMIT_SYNC_PER_USER_HOUR: z.coerce.number().int().min(1).default(1000),
  RATE_LIMIT_DEFAULT_PER_IP_HOUR: z.coerce.number().int().min(1).default(10_000),
  DOWNLOAD_REDIRECT_DEFAULT: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  PRESIGN_EXPIRY_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(168 * 3600)
    .default(24 * 3600),
};

export type GatewayConfig = z.infer<z.ZodObject<typeof gatewayEnv>>;

export function validateGatewayConfig(config: GatewayConfig): GatewayConfig {
  if (!config.JWT_SECRET && !config.JWT_JWKS_URL) {
    process.stderr.write(
      'api-gateway: Invalid configuration:\n  - JWT_SECRET: is required unless JWT_JWKS_URL is set\n',
    );
    process.exit(1);
  }
  return config;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(): GatewayConfig {
  return validateGatewayConfig(loadConfig(gatewayEnv, 'api-gateway'));
}
