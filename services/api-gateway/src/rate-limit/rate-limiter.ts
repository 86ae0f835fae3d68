import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, getLogger, queuePrefix, withTimeout } from '@bible/common';
import type { Limit, LimitState } from './rate-limit.rules';

/**
 * Sliding-window-log limiter in Redis (a sorted set of request times per subject), shared by every
 * gateway replica. One Lua call checks and counts all of a request's limits (each independently,
 * atomically): one round trip per request, sent as EVALSHA (ioredis defineCommand) so the script
 * body is not sent and hashed again on every request.
 */
const SCRIPT = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[1 + 2 * i])
  local limit = tonumber(ARGV[2 + 2 * i])
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
  table.insert(out, allowed)
  table.insert(out, limit - count)
  table.insert(out, reset)
end
return out
`;
const COMMAND = 'bibleRateLimit';

type LimitedRedis = Redis & {
  [COMMAND](numKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

@Injectable()
export class RateLimiter {
  private sequence = 0;
  private readonly redis: LimitedRedis;

  constructor(@Inject(REDIS) redis: Redis) {
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { lua: SCRIPT });
    this.redis = redis as LimitedRedis;
  }

  /**
   * Returns the state of each limit, or null when Redis is unavailable: limits fail open so an
   * outage of the limiter never takes the API down with it.
   */
  async hit(
    bucket: string,
    subjects: { limit: Limit; subject: string }[],
  ): Promise<(LimitState & { allowed: boolean })[] | null> {
    if (subjects.length === 0) return [];
    const now = Date.now();
    try {
      if (this.redis.status !== 'ready') return null;
      const keys = subjects.map(
        ({ limit, subject }) => `${queuePrefix()}:rl:${bucket}:${limit.scope}:${subject}`,
      );
      const args = subjects.flatMap(({ limit }) => [limit.windowSeconds * 1000, limit.limit]);
      const member = `${now}:${process.pid}:${this.sequence++}`;
      // The shared connection queues commands while reconnecting; never let a request wait on it.
      const flat = await withTimeout(
        this.redis[COMMAND](keys.length, ...keys, now, member, ...args),
        500,
        'the rate limiter',
      );
      return subjects.map(({ limit }, i) => ({
        allowed: flat[3 * i] === 1,
        limit: limit.limit,
        remaining: flat[3 * i + 1],
        resetSeconds: Math.ceil(flat[3 * i + 2] / 1000),
      }));
    } catch (error) {
      getLogger().warn(
        { err: (error as Error).message, bucket },
        'rate limiter unavailable, failing open',
      );
      return null;
    }
  }
}
