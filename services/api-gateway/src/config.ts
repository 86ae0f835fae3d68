import { z } from 'zod';
import { baseEnv, databaseEnv, jwtEnv, loadConfig, port, redisEnv, s3Env } from '@bible/common';
import { webhookEnv } from '@bible/common/webhooks/secrets';
import { gatewayPushEnv } from './push/push.config';
import { queueConsoleEnv, queueConsoleProblems } from './queue-console/queue-console.config';

export const gatewayEnv = {
  ...baseEnv,
  ...databaseEnv,
  ...redisEnv,
  ...s3Env,
  ...jwtEnv,
  ...webhookEnv,
  ...gatewayPushEnv,
  ...queueConsoleEnv,
  GATEWAY_PORT: port.default(3000),
  /** A client must send its whole request head within this (slow-header clients get 408). */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(120_000).default(10_000),
  /** ... and its whole request, body included (audio uploads are the largest bodies). */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(300_000),
  /**
   * Open connections one client address may hold (0: no cap). Behind a load balancer every
   * connection comes from its addresses: raise it or set 0 there.
   */
  HTTP_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(0).default(256),
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
  /** Object-store connections one gateway keeps open for downloads; beyond it, 503 + Retry-After. */
  DOWNLOAD_MAX_UPSTREAM_STREAMS: z.coerce.number().int().min(1).default(256),
  /**
   * A download whose client takes none of the gateway's next read buffer (at most 1 MiB) for this
   * long is closed, releasing its object-store connection; the client resumes with Range.
   * 120 s keeps clients down to about 9 KB/s.
   */
  DOWNLOAD_CLIENT_STALL_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  /**
   * A build-status SSE stream is ended after this long; the client reconnects with Last-Event-ID
   * and misses nothing. Bounded lifetimes let load balancers spread streams over new replicas.
   */
  SSE_MAX_STREAM_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Catalog responses cached in Redis for this long (entries are also versioned on writes). */
  CONTENT_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  /** Largest audio file POST /v1/media-files accepts (bytes). */
  MEDIA_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(200 * 1024 * 1024),
  /** Object-key prefix of ingested media (`<prefix><audioVersionId>/<file>`). */
  MEDIA_OBJECT_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9._-]+\/)+$/, 'must be path segments ending in "/", e.g. media/')
    .default('media/'),
  /** How often one gateway replica sweeps orphaned media objects (0 disables the sweeper). */
  MEDIA_SWEEP_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10 * 60_000),
  /** Objects younger than this are never swept (an upload may still be committing). */
  MEDIA_SWEEP_MIN_AGE_SECONDS: z.coerce.number().int().min(0).default(3600),
  /**
   * An update is answered with a full package when the delta would be larger than this share
   * of the full package (0 < share <= 1).
   */
  PACKAGE_DELTA_MAX_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
};

export type GatewayConfig = z.infer<z.ZodObject<typeof gatewayEnv>>;

export function validateGatewayConfig(config: GatewayConfig): GatewayConfig {
  const problems = [
    ...(!config.JWT_SECRET && !config.JWT_JWKS_URL
      ? ['JWT_SECRET: is required unless JWT_JWKS_URL is set']
      : []),
    ...queueConsoleProblems(config),
  ];
  if (problems.length) {
    process.stderr.write(
      `api-gateway: Invalid configuration:\n${problems.map((p) => `  - ${p}\n`).join('')}`,
    );
    process.exit(1);
  }
  return config;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(): GatewayConfig {
  return validateGatewayConfig(loadConfig(gatewayEnv, 'api-gateway'));
}
