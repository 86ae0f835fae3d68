import { z } from 'zod';
import { baseEnv, databaseEnv, loadConfig, port, redisEnv } from '@bible/common';

export const syncEnv = {
  ...baseEnv,
  ...databaseEnv,
  ...redisEnv,
  SYNC_PORT: port.default(3002),
  /** How often the change-feed relay polls change_log when idle. */
  SYNC_RELAY_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  /**
   * change_log rows the relay reads and applies per batch; each batch writes one content.changed
   * event per touched scope, so larger batches mean fewer events for a bulk edit.
   */
  SYNC_RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(20_000),
  /** change_log rows older than this are compacted (a scope's newest row is always kept). */
  SYNC_CHANGE_RETENTION_DAYS: z.coerce.number().min(0).max(3650).default(90),
  /** Processed sync_queue rows are kept this long; it bounds how long a replay is recognised. */
  SYNC_QUEUE_RETENTION_DAYS: z.coerce.number().min(1).max(3650).default(30),
  /** Active sessions older than this are marked expired. */
  SYNC_SESSION_TTL_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 365)
    .default(24),
  /** Mutations still pending this long (their push was interrupted) are marked failed (retryable). */
  SYNC_PENDING_TIMEOUT_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
  /** Interval of the housekeeping tasks (compaction, expiry, sweeps). */
  SYNC_MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  /** Interval of the sync health gauges refresh (pending, failed, conflict rate...). */
  SYNC_STATS_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
};

export type SyncConfig = z.infer<z.ZodObject<typeof syncEnv>>;
export const SYNC_CONFIG = Symbol('SYNC_CONFIG');

export function loadSyncConfig(): SyncConfig {
  return loadConfig(syncEnv, 'sync-service');
}
