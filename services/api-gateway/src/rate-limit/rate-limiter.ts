import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, getLogger, queuePrefix, withTimeout } from '@bible/common';
import type { Limit, LimitState } from './rate-limit.rules';

/**
 * Sliding-window-log limiter in Redis (a sorted set of request times per subject), shared by every
 * gateway replica. One Lua call per limit keeps check-and-add atomic.
 */
const SCRIPT = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local member = ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now, member)
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', key, window)
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local reset = window
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return { allowed, limit - count, reset }
`;

@Injectable()
export class RateLimiter {
  private sequence = 0;

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /**
   * Returns the state of each limit, or null when Redis is unavailable: limits fail open so an
   * outage of the limiter never takes the API down with it.
   */
  async hit(
    bucket: string,
    subjects: { limit: Limit; subject: string }[],
  ): Promise<(LimitState & { allowed: boolean })[] | null> {
    const now = Date.now();
    try {
      if (this.redis.status !== 'ready') return null;
      // The shared connection queues commands while reconnecting; never let a request wait on it.
      return await withTimeout(
        Promise.all(
          subjects.map(async ({ limit, subject }) => {
            const windowMs = limit.windowSeconds * 1000;
            const member = `${now}:${process.pid}:${this.sequence++}`;
            const [allowed, remaining, resetMs] = (await this.redis.eval(
              SCRIPT,
              1,
              `${queuePrefix()}:rl:${bucket}:${limit.scope}:${subject}`,
              now,
              windowMs,
              limit.limit,
              member,
            )) as [number, number, number];
            return {
              allowed: allowed === 1,
              limit: limit.limit,
              remaining,
              resetSeconds: Math.ceil(resetMs / 1000),
            };
          }),
        ),
        500,
        'the rate limiter',
      );
    } catch (error) {
      getLogger().warn(
        { err: (error as Error).message, bucket },
        'rate limiter unavailable, failing open',
      );
      return null;
    }
  }
}
