import { z } from 'zod';
import { baseEnv, databaseEnv, loadConfig, port, redisEnv } from '@bible/common';

export const syncEnv = {
  ...baseEnv,
  ...databaseEnv,
  ...redisEnv,
  SYNC_PORT: port.default(3002),
  /** How often the change-feed relay polls change_log when idle. */
  SYNC_RELAY_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
};

export type SyncConfig = z.infer<z.ZodObject<typeof syncEnv>>;
export const SYNC_CONFIG = Symbol('SYNC_CONFIG');

export function loadSyncConfig(): SyncConfig {
  return loadConfig(syncEnv, 'sync-service');
}
