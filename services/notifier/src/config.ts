import { z } from 'zod';
import { baseEnv, databaseEnv, loadConfig, port, redisEnv } from '@bible/common';
import { webhookEnv } from '@bible/common/webhooks/secrets';
import { checkPushConfig, pushEnv } from './push/push.config';
import { retentionEnv } from './retention/retention.config';
import { DEFAULT_SCHEDULE, parseDuration, parseSchedule } from './webhooks/schedule';

const parsed =
  <T>(parse: (text: string) => T) =>
  (text: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  };

export const notifierEnv = {
  ...baseEnv,
  ...databaseEnv,
  ...redisEnv,
  ...webhookEnv,
  ...retentionEnv,
  ...pushEnv,
  NOTIFIER_PORT: port.default(3003),
  /** A delivery succeeds on a 2xx within this time (connect, headers and body). */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** Delay before each attempt, first attempt first (durations: 0, 500ms, 5s, 5m, 2h, 1d). */
  WEBHOOK_RETRY_SCHEDULE: z.string().default(DEFAULT_SCHEDULE).transform(parsed(parseSchedule)),
  /** An endpoint that has failed without a success for this long is disabled. */
  WEBHOOK_DISABLE_AFTER: z.string().default('5d').transform(parsed(parseDuration)),
  /** Delivery attempts in flight in this replica. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(64),
  /** Attempts in flight to one endpoint across all replicas (a slow receiver cannot starve others). */
  WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(10),
  /** Events claimed per dispatcher transaction. */
  WEBHOOK_DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** How often an idle dispatcher looks for new events. */
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  /** The dispatcher pauses while this many delivery jobs wait in Redis (events wait in Postgres). */
  WEBHOOK_MAX_QUEUED: z.coerce.number().int().min(100).default(100_000),
  /** A pending delivery this much past its due time without a job gets its job again. */
  WEBHOOK_RECOVERY_AFTER_MS: z.coerce.number().int().min(1_000).default(60_000),
};

export type NotifierConfig = z.infer<z.ZodObject<typeof notifierEnv>>;
export const NOTIFIER_CONFIG = Symbol('NOTIFIER_CONFIG');

export function loadNotifierConfig(): NotifierConfig {
  const config = loadConfig(notifierEnv, 'notifier');
  const problems = checkPushConfig(config);
  if (problems.length > 0) throw new Error(`notifier config: ${problems.join('; ')}`);
  return config;
}
