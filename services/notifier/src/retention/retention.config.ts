import { z } from 'zod';

/** Event retention settings (spread into the notifier's validated config). */
export const retentionEnv = {
  /** Dispatched events older than this are deleted (undispatched ones never are). */
  EVENTS_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(30),
  /** How often the pruning job runs (one replica at a time). */
  EVENTS_PRUNE_INTERVAL_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(3_600_000),
  /** Events deleted per statement; each batch commits on its own so locks stay short. */
  EVENTS_PRUNE_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(5_000),
};

export type RetentionConfig = z.infer<z.ZodObject<typeof retentionEnv>>;
