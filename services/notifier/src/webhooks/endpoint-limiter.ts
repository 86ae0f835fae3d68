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

/**
 * The lease set in Redis, fronted by a local gate: when this replica alone already holds the
 * endpoint's limit, up to `maxWaiters` more attempts wait here for a local release instead of
 * being delayed in BullMQ and fetched again (that churn cost more than the deliveries to a busy
 * endpoint). An endpoint thus holds at most `limit + maxWaiters` of this replica's worker slots;
 * beyond that, and whenever Redis says no, `acquire` answers null and the job is delayed.
 */
export class EndpointLimiter {
  private readonly local = new Map<string, { inFlight: number; waiters: (() => void)[] }>();

  constructor(
    private readonly redis: Redis,
    private readonly limit: number,
    /** How long a lease lives if its holder never releases it (crash). */
    private readonly leaseMs: number,
    /** Attempts that may wait locally per endpoint (keep it well under the worker's slots). */
    private readonly maxWaiters: number,
  ) {}

  private key(subscriptionId: string): string {
    return `${queuePrefix()}:webhook-inflight:${subscriptionId}`;
  }

  /** A lease, or null when the endpoint already has `limit` attempts in flight. */
  async acquire(subscriptionId: string): Promise<Lease | null> {
    let gate = this.local.get(subscriptionId);
    if (!gate) this.local.set(subscriptionId, (gate = { inFlight: 0, waiters: [] }));
    if (gate.inFlight >= this.limit) {
      if (gate.waiters.length >= this.maxWaiters) return null;
      await new Promise<void>((resolve) => gate.waiters.push(resolve));
    }
    gate.inFlight++;
    const lease = await this.acquireShared(subscriptionId).catch((error: unknown) => {
      this.leave(subscriptionId, gate);
      throw error;
    });
    if (!lease) {
      this.leave(subscriptionId, gate);
      return null;
    }
    return {
      release: async () => {
        this.leave(subscriptionId, gate);
        await lease.release();
      },
    };
  }

  private leave(subscriptionId: string, gate: { inFlight: number; waiters: (() => void)[] }) {
    gate.inFlight--;
    gate.waiters.shift()?.();
    if (gate.inFlight <= 0 && gate.waiters.length === 0) this.local.delete(subscriptionId);
  }

  private async acquireShared(subscriptionId: string): Promise<Lease | null> {
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
