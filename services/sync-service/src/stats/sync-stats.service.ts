import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, getLogger, queuePrefix } from '@bible/common';
import {
  type SyncHealthFigures,
  SyncHealthRepository,
  healthFigures,
  parseSnapshot,
} from '@bible/sync';
import { SYNC_CONFIG, type SyncConfig } from '../config';
import {
  averageSyncSeconds,
  conflictRate,
  failedMutations,
  oldestPendingSeconds,
  onHealthScrape,
  openConflicts,
  pendingMutations,
  relayLagSeconds,
  relayLeader,
} from '../metrics';

/**
 * The sync health gauges (the same figures as GET /v1/admin/sync/health; the Helm chart alerts on
 * pending > 100 and failed > 10). The `refresh-sync-health` job scheduler computes them on one
 * replica every SYNC_STATS_INTERVAL_MS and stores them in Redis; every replica loads that
 * snapshot into its gauges when scraped, so all replicas export the same, current figures. The
 * relay lag of the replica that relays comes from the relay itself (fresher).
 */
@Injectable()
export class SyncStats implements OnModuleInit {
  private loading?: Promise<void>;
  private lastErrorLog = 0;

  constructor(
    private readonly health: SyncHealthRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SYNC_CONFIG) private readonly config: SyncConfig,
  ) {}

  onModuleInit(): void {
    onHealthScrape(() => this.load());
  }

  private snapshotKey(): string {
    return `${queuePrefix()}:sync-health`;
  }

  /** Loads the latest snapshot into the gauges; one Redis read shared by a scrape's gauges. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const figures = parseSnapshot(await this.redis.get(this.snapshotKey()));
        if (figures) await this.setGauges(figures);
      } catch (error) {
        if (Date.now() - this.lastErrorLog > 60_000) {
          this.lastErrorLog = Date.now();
          getLogger().warn({ err: (error as Error).message }, 'sync health snapshot not read');
        }
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async setGauges(figures: SyncHealthFigures): Promise<void> {
    pendingMutations.set(figures.pending);
    failedMutations.set(figures.failed);
    oldestPendingSeconds.set(figures.oldestPendingSeconds);
    averageSyncSeconds.set(figures.averageSyncSeconds);
    conflictRate.set(figures.conflictRate);
    openConflicts.set(figures.openConflicts);
    const leader = (await relayLeader.get()).values[0]?.value === 1;
    if (!leader) relayLagSeconds.set(figures.relayLagSeconds);
  }

  /** Computes the figures and stores them as the snapshot every replica exports. */
  async refresh(): Promise<SyncHealthFigures> {
    const figures = healthFigures(await this.health.read());
    // Kept for a few intervals: a snapshot nobody refreshes any more disappears.
    const ttlMs = Math.max(60_000, 3 * this.config.SYNC_STATS_INTERVAL_MS);
    await this.redis.set(this.snapshotKey(), JSON.stringify(figures), 'PX', ttlMs);
    return figures;
  }
}
