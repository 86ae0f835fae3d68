import { z } from 'zod';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

const perSecond = (fallback: number) =>
  z.coerce.number().int().min(1).max(100_000).default(fallback);

/**
 * Device push settings. A provider is enabled when its credentials are set (FCM: the service
 * account file; APNs: key file, key id, team id and topic; Web Push: the VAPID key pair and
 * subject); tokens of a disabled provider get no notifications.
 */
export const pushEnv = {
  FCM_SERVICE_ACCOUNT_FILE: optionalText,
  FCM_PROJECT_ID: optionalText,
  FCM_ENDPOINT: z.url().default('https://fcm.googleapis.com'),
  /** OAuth2 token endpoint (default: the service account's token_uri). */
  FCM_TOKEN_URI: z.url().optional(),
  APNS_KEY_FILE: optionalText,
  APNS_KEY_ID: optionalText,
  APNS_TEAM_ID: optionalText,
  APNS_TOPIC: optionalText,
  /** https://api.push.apple.com (production) or https://api.sandbox.push.apple.com. */
  APNS_HOST: z.url().default('https://api.push.apple.com'),
  /** Extra CA (PEM) the APNs client trusts: the local fake's self-signed certificate. */
  APNS_CA_FILE: optionalText,
  VAPID_PUBLIC_KEY: optionalText,
  VAPID_PRIVATE_KEY: optionalText,
  VAPID_SUBJECT: optionalText,
  /** Extra CA (PEM) trusted for Web Push endpoints (the local fake). */
  WEBPUSH_CA_FILE: optionalText,
  /** Sends per second per provider across all replicas (BullMQ limiter). */
  PUSH_RATE_FCM: perSecond(5_000),
  PUSH_RATE_APNS: perSecond(5_000),
  PUSH_RATE_WEBPUSH: perSecond(1_000),
  /** Sends in flight per provider in this replica. */
  PUSH_CONCURRENCY: z.coerce.number().int().min(1).max(2_000).default(100),
  /**
   * First attempts per send job (a fan-out page's sends go out in jobs of this many, each sent
   * concurrently); retries and quiet-hours sends are a job each.
   */
  PUSH_SEND_BATCH: z.coerce.number().int().min(1).max(500).default(20),
  /** Devices per fan-out page (one job each; replicas share the pages). */
  PUSH_FANOUT_PAGE_SIZE: z.coerce.number().int().min(10).max(10_000).default(1_000),
  /** content.changed: at most one notification per device and version in this window. */
  PUSH_COALESCE_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(15 * 60_000),
  /** Attempts per notification (429/5xx/network answers are retried). */
  PUSH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** Retry delay before attempt n+1 without Retry-After: base × 4^(n-1), at most 1 h. */
  PUSH_RETRY_BASE_MS: z.coerce.number().int().min(10).default(5_000),
  PUSH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * A pending notification overdue this long whose send job is not waiting, delayed or running
   * (lost between a commit and its job add, or its claim outlived the job) is sent again.
   */
  PUSH_RECOVERY_AFTER_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(5 * 60_000),
  /** How long providers keep an undelivered message (FCM ttl, apns-expiration, Web Push TTL). */
  PUSH_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(28 * 86_400)
    .default(86_400),
  PUSH_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  PUSH_DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
};

type PushEnvShape = z.infer<z.ZodObject<typeof pushEnv>>;

/** Cross-field rules: a provider is configured completely or not at all. */
export function checkPushConfig(c: PushEnvShape): string[] {
  const problems: string[] = [];
  const apns = [c.APNS_KEY_FILE, c.APNS_KEY_ID, c.APNS_TEAM_ID, c.APNS_TOPIC];
  if (apns.some(Boolean) && !apns.every(Boolean))
    problems.push('APNs needs APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC together');
  const vapid = [c.VAPID_PUBLIC_KEY, c.VAPID_PRIVATE_KEY, c.VAPID_SUBJECT];
  if (vapid.some(Boolean) && !vapid.every(Boolean))
    problems.push('Web Push needs VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT together');
  if (c.VAPID_SUBJECT && !/^(mailto:|https:)/.test(c.VAPID_SUBJECT))
    problems.push('VAPID_SUBJECT must be a mailto: or https: URL');
  return problems;
}

/** Sends per second a provider accepts from all replicas together. */
export function providerRate(
  c: Pick<PushEnvShape, 'PUSH_RATE_FCM' | 'PUSH_RATE_APNS' | 'PUSH_RATE_WEBPUSH'>,
  provider: 'fcm' | 'apns' | 'webpush',
): number {
  switch (provider) {
    case 'fcm':
      return c.PUSH_RATE_FCM;
    case 'apns':
      return c.PUSH_RATE_APNS;
    case 'webpush':
      return c.PUSH_RATE_WEBPUSH;
  }
}

/**
 * Notifications per batch job and BullMQ limiter for a provider: the limiter counts jobs, so a
 * batch is never larger than the rate and the limiter lets through rate / batch jobs a second
 * (a single-send job counts as a whole batch: a bound, never an excess).
 */
export function sendLimits(
  rate: number,
  batch: number,
  concurrency: number,
): { batch: number; jobsPerSecond: number; jobConcurrency: number } {
  const size = Math.max(1, Math.min(batch, rate));
  return {
    batch: size,
    jobsPerSecond: Math.max(1, Math.floor(rate / size)),
    jobConcurrency: Math.max(1, Math.ceil(concurrency / size)),
  };
}

/** Retry delay for the attempt after `attempt`: Retry-After when the provider gave one. */
export function retryDelayMs(attempt: number, baseMs: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null) return Math.max(0, retryAfterMs);
  return Math.min(3_600_000, baseMs * 4 ** (attempt - 1));
}
