import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { getLogger, metricsRegistry } from '@bible/common';
import { contentCachePrefix } from '@bible/content';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

const cacheResults = new Counter({
  name: 'bible_content_cache_requests_total',
  help: 'Catalog reads by cache outcome: hit, miss, or bypass (Redis unavailable: served from Postgres).',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

/**
 * Read-through cache for hot catalog reads (JSON in Redis with a short TTL). Keys embed a
 * generation counter that every content write through the API (publish, ingest, timings) and the
 * import CLI increments, so writes are visible at once; the TTL bounds staleness from other
 * writers. Redis is optional here: a dedicated client without an offline queue fails fast while
 * Redis is down, and every failure falls back to Postgres, never to an error.
 */
@Injectable()
export class ContentCache implements OnModuleDestroy {
  private readonly client: Redis;
  private readonly ttl: number;
  private readonly prefix: string;
  private connectedBefore = false;
  private warned = false;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.ttl = config.CONTENT_CACHE_TTL_SECONDS;
    this.prefix = contentCachePrefix(config.DATABASE_URL);
    this.client = new Redis(config.REDIS_URL, {
      connectionName: 'api-gateway:content-cache',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
    });
    this.client.on('error', (error: Error) => {
      if (!this.warned) {
        this.warned = true;
        getLogger().warn(
          { err: error.message },
          'content cache unavailable, serving from Postgres',
        );
      }
    });
    this.client.on('ready', () => {
      this.warned = false;
      // Writes made while Redis was away did not bump the generation: bump it now.
      if (this.connectedBefore) void this.invalidate();
      this.connectedBefore = true;
    });
  }

  /** Redis answers (commands fail fast otherwise). */
  get available(): boolean {
    return this.client.status === 'ready';
  }

  private async safely<T>(op: () => Promise<T>): Promise<T | undefined> {
    if (!this.available) return undefined;
    try {
      return await op();
    } catch (error) {
      getLogger().debug({ err: (error as Error).message }, 'content cache call failed');
      return undefined;
    }
  }

  /** The cached value of `parts` in `namespace`, or `load()` (then cached). */
  async read<T>(namespace: string, parts: unknown, load: () => Promise<T>): Promise<T> {
    if (this.ttl === 0) return load();
    const generation = await this.safely(() => this.client.get(`${this.prefix}:generation`));
    if (generation === undefined) {
      cacheResults.inc({ result: 'bypass' });
      return load();
    }
    const digest = createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
    const key = `${this.prefix}:${generation ?? '0'}:${namespace}:${digest}`;
    const cached = await this.safely(() => this.client.get(key));
    if (typeof cached === 'string') {
      try {
        const value = JSON.parse(cached) as T;
        cacheResults.inc({ result: 'hit' });
        return value;
      } catch {
        /* unreadable entry: reload */
      }
    }
    cacheResults.inc({ result: cached === undefined ? 'bypass' : 'miss' });
    const value = await load();
    void this.safely(() => this.client.set(key, JSON.stringify(value), 'EX', this.ttl));
    return value;
  }

  /** Makes every cached entry unreachable (they expire by TTL). Never throws. */
  async invalidate(): Promise<void> {
    await this.safely(() => this.client.incr(`${this.prefix}:generation`));
  }

  onModuleDestroy(): void {
    this.client.disconnect();
  }
}
