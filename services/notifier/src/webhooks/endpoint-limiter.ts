import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { queuePrefix } from '@bible/common';

/*
 * Per-endpoint concurrency across every notifier replica: a Redis sorted set per subscription
 * whose members are the attempts in flight, scored by when their lease expires. A replica that
 * dies mid-attempt leaks nothing: its leases expire (timeout + margin) and are swept on the next
 * acquire.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
`;

export interface Lease {
  release(): Promise<void>;
}

export class EndpointLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly limit: number,
    /** How long a lease lives if its holder never releases it (crash). */
    private readonly leaseMs: number,
  ) {}

  private key(subscriptionId: string): string {
    return `${queuePrefix()}:webhook-inflight:${subscriptionId}`;
  }

  /** A lease, or null when the endpoint already has `limit` attempts in flight. */
  async acquire(subscriptionId: string): Promise<Lease | null> {
    const key = this.key(subscriptionId);
    const member = randomUUID();
    const now = Date.now();
    const ok = await this.redis.eval(
      ACQUIRE,
      1,
      key,
      String(now),
      String(now + this.leaseMs),
      String(this.limit),
      member,
      String(this.leaseMs * 2),
    );
    if (ok !== 1) return null;
    return {
      release: async () => {
        await this.redis.zrem(key, member);
      },
    };
  }
}
