import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../database/data-source';
import { getLogger } from '../telemetry/logger';
import type { DependencyProbe } from './probes';

export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const REDIS = Symbol('REDIS');
export const POSTGRES_PROBE = Symbol('POSTGRES_PROBE');
export const REDIS_PROBE = Symbol('REDIS_PROBE');

export interface InfraOptions {
  serviceName: string;
  database?: { url: string; poolMax: number; statementTimeoutMs: number };
  redisUrl?: string;
  /**
   * Commands fail at once while Redis is unreachable instead of waiting in ioredis's offline queue
   * (right for request paths that answer 503; wrong for BullMQ workers, which need to wait).
   */
  redisFailFast?: boolean;
}

/** Retries the first connection so a service started alongside Postgres does not crash-loop. */
async function initialiseWithRetry(dataSource: DataSource, attempts = 30): Promise<DataSource> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dataSource.initialize();
    } catch (error) {
      if (attempt >= attempts) throw error;
      getLogger().warn(
        { attempt, err: (error as Error).message },
        'postgres not reachable yet, retrying',
      );
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/**
 * Shared Redis connection; reconnects forever. By default commands wait for a reconnect (BullMQ
 * workers need `maxRetriesPerRequest: null`). With `failFast` a command issued while Redis is
 * unreachable fails at once, and one in flight when the connection drops is failed rather than
 * resent after the caller gave up: nothing queues up in memory during a long outage, and an
 * operation answered "unavailable" never runs later.
 */
export function redisConnection(url: string, name: string, failFast = false): Redis {
  return new Redis(url, {
    connectionName: name,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...(failFast
      ? { maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResendUnfulfilledCommands: false }
      : { maxRetriesPerRequest: null }),
  });
}

@Injectable()
class InfraLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource | null,
    @Inject(REDIS) private readonly redis: Redis | null,
    @Inject(REDIS_PROBE) private readonly redisProbe: (DependencyProbe & { close(): void }) | null,
  ) {}

  /** Runs after every worker and queue closed (see bootstrap): pools go last. */
  async onApplicationShutdown(): Promise<void> {
    this.redisProbe?.close();
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Postgres and Redis as injectable singletons with readiness probes (the object store is
 * @bible/storage's StorageModule). Each service asks only for what it uses, so readiness reflects
 * exactly its own dependencies.
 */
@Global()
@Module({})
export class InfraModule {
  static forRoot(options: InfraOptions): DynamicModule {
    const { database, redisUrl } = options;
    return {
      module: InfraModule,
      providers: [
        {
          provide: DATA_SOURCE,
          useFactory: async () =>
            database
              ? initialiseWithRetry(
                  createDataSource(database.url, {
                    poolMax: database.poolMax,
                    statementTimeoutMs: database.statementTimeoutMs,
                    applicationName: options.serviceName,
                  }),
                )
              : null,
        },
        {
          provide: POSTGRES_PROBE,
          inject: [DATA_SOURCE],
          useFactory: (ds: DataSource | null): DependencyProbe | null =>
            ds && { name: 'postgres', ping: async () => void (await ds.query('SELECT 1')) },
        },
        {
          provide: REDIS,
          useFactory: () =>
            redisUrl
              ? redisConnection(redisUrl, `${options.serviceName}:main`, options.redisFailFast)
              : null,
        },
        {
          provide: REDIS_PROBE,
          useFactory: () => {
            if (!redisUrl) return null;
            // A dedicated client without an offline queue: while Redis is down PING fails at once
            // instead of waiting for a reconnect, so readiness turns 503 quickly.
            const client = new Redis(redisUrl, {
              connectionName: `${options.serviceName}:health`,
              enableOfflineQueue: false,
              maxRetriesPerRequest: 0,
              retryStrategy: (times) => Math.min(times * 200, 1_000),
              lazyConnect: false,
            });
            client.on('error', () => undefined);
            return {
              name: 'redis',
              ping: async () => void (await client.ping()),
              close: () => client.disconnect(),
            };
          },
        },
        InfraLifecycle,
      ],
      exports: [DATA_SOURCE, REDIS, POSTGRES_PROBE, REDIS_PROBE],
    };
  }
}
