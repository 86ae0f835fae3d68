/*
 * Retry rules of webhook delivery as plain functions (unit-tested): the schedule, jitter,
 * Retry-After, and what an HTTP outcome means.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `250ms`, `5s`, `5m`, `2h`, `5d`, or `0`, in milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match || (match[2] === undefined && Number(match[1]) !== 0))
    throw new Error(`"${text}" is not a duration like 0, 500ms, 5s, 5m, 2h or 5d`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']);
}

/**
 * The delay before each attempt, first attempt first: `0,5s,5m,30m,2h,5h,10h,10h` makes eight
 * attempts over about 27.5 hours.
 */
export function parseSchedule(text: string): number[] {
  const delays = text.split(',').map(parseDuration);
  if (delays.length === 0 || delays.length > 50) throw new Error('must list 1 to 50 delays');
  return delays;
}

export const DEFAULT_SCHEDULE = '0,5s,5m,30m,2h,5h,10h,10h';

/** A 429/503 Retry-After never pushes an attempt further out than this. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`; null when absent or invalid. */
export function parseRetryAfter(header: string | undefined, now: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1_000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/** ±10 % so endpoints that failed together do not get their retries together. */
export function withJitter(delayMs: number, random: () => number = Math.random): number {
  if (delayMs <= 0) return 0;
  return Math.round(delayMs * (0.9 + 0.2 * random()));
}

export interface AttemptResult {
  /** HTTP status, null when no response arrived. */
  statusCode: number | null;
  error: string | null;
  retryAfterMs: number | null;
}

export type AttemptOutcome =
  { kind: 'delivered' } | { kind: 'retry'; delayMs: number } | { kind: 'failed' };

/** Only a 2xx is success; redirects are not followed, so a 3xx is a failure like any other. */
export function isSuccess(statusCode: number | null): boolean {
  return statusCode !== null && statusCode >= 200 && statusCode < 300;
}

/**
 * What follows attempt `attempt` (1-based): delivered, another attempt after the scheduled delay
 * (with jitter; at least the Retry-After of a 429/503), or failed for good when the schedule is
 * spent.
 */
export function decideNext(
  attempt: number,
  result: AttemptResult,
  schedule: readonly number[],
  random: () => number = Math.random,
): AttemptOutcome {
  if (isSuccess(result.statusCode)) return { kind: 'delivered' };
  if (attempt >= schedule.length) return { kind: 'failed' };
  let delayMs = withJitter(schedule[attempt], random);
  if ((result.statusCode === 429 || result.statusCode === 503) && result.retryAfterMs !== null)
    delayMs = Math.max(delayMs, result.retryAfterMs);
  return { kind: 'retry', delayMs };
}

/** An endpoint failing without a single success for this long is disabled. */
export function shouldDisable(
  failingSince: Date | null,
  now: number,
  disableAfterMs: number,
): boolean {
  return failingSince !== null && now - failingSince.getTime() >= disableAfterMs;
}
