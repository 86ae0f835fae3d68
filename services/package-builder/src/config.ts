import { z } from 'zod';
import { baseEnv, databaseEnv, loadConfig, port, redisEnv, s3Env } from '@bible/common';

export const builderEnv = {
  ...baseEnv,
  ...databaseEnv,
  ...redisEnv,
  ...s3Env,
  BUILDER_PORT: port.default(3001),
  /** Packages built at once by this replica (scale out with replicas, not threads). */
  BUILDER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  /** Where packages are assembled before upload; needs room for the largest package's database. */
  BUILD_TMP_DIR: z.string().min(1).default('/tmp'),
  /** Parallel audio downloads per build. */
  BUILDER_AUDIO_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
  /**
   * How long a build's lock lives without renewal: a killed worker's job is retried after this,
   * and a build survives Redis outages up to about three quarters of it (see lockRenewTime).
   */
  BUILDER_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).max(600_000).default(40_000),
  /** Incomplete multipart uploads older than this are aborted by the sweeper. */
  MULTIPART_SWEEP_AGE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(6 * 3600_000),
  /** Superseded (stale) packages stay downloadable this long, then their objects are removed. */
  PACKAGE_STALE_RETENTION_HOURS: z.coerce
    .number()
    .min(0)
    .default(7 * 24),
  MAINTENANCE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(10 * 60_000),
  SIGNING_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must match [A-Za-z0-9._-]{1,64}')
    .optional(),
  SIGNING_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  SIGNING_PRIVATE_KEY_PEM: z.string().min(1).optional(),
};

export type BuilderConfig = z.infer<z.ZodObject<typeof builderEnv>>;
export const BUILDER_CONFIG = Symbol('BUILDER_CONFIG');

export function loadBuilderConfig(): BuilderConfig {
  return loadConfig(builderEnv, 'package-builder');
}
