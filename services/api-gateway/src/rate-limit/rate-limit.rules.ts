/** Rate-limit buckets of the contract (per hour), each applied per user and per client IP. */
export type RateLimitBucket = 'builds' | 'downloads' | 'sync' | 'default';

export interface Limit {
  scope: 'user' | 'ip';
  limit: number;
  windowSeconds: number;
}

export interface LimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** The tightest state among several limits decides the headers (RFC RateLimit draft). */
export function mostRestrictive(states: LimitState[]): LimitState {
  return states.reduce((worst, s) =>
    s.remaining < worst.remaining ||
    (s.remaining === worst.remaining && s.resetSeconds > worst.resetSeconds)
      ? s
      : worst,
  );
}

export function rateLimitHeaders(state: LimitState, blocked: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(Math.max(0, state.remaining)),
    'RateLimit-Reset': String(state.resetSeconds),
    'RateLimit-Policy': `${state.limit};w=3600`,
  };
  if (blocked) headers['Retry-After'] = String(Math.max(1, state.resetSeconds));
  return headers;
}
