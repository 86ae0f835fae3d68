import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, REDIS, getLogger, pgPool, queuePrefix } from '@bible/common';
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
import { RELAY_NAME } from '../relay/relay-rules';

export interface SyncHealthFigures {
  pending: number;
  failed: number;
  oldestPendingSeconds: number;
  averageSyncSeconds: number;
  conflictRate: number;
  openConflicts: number;
  relayLagSeconds: number;
}

interface HealthRow {
  pending: number;
  failed: number;
  oldest_pending_seconds: number | null;
  average_sync_seconds: number | null;
  mutations_24h: number;
  conflicts_24h: number;
  open_conflicts: number;
  relay_lag_seconds: number | null;
}

/** Conflicts over mutations processed in the window (0 when none were processed). */
export function rate(conflicts: number, processed: number): number {
  return processed > 0 ? conflicts / processed : 0;
}

/** The figures a snapshot holds, or null when it is missing or unreadable. */
export function parseSnapshot(text: string | null): SyncHealthFigures | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<SyncHealthFigures>;
    const keys: (keyof SyncHealthFigures)[] = [
      'pending',
      'failed',
      'oldestPendingSeconds',
      'averageSyncSeconds',
      'conflictRate',
      'openConflicts',
      'relayLagSeconds',
    ];
    return keys.every((k) => typeof value[k] === 'number') ? (value as SyncHealthFigures) : null;
  } catch {
    return null;
  }
}

/**
 * The sync health gauges (the same figures as GET /v1/admin/sync/health; the Helm chart alerts on
 * pending > 100 and failed > 10). The `refresh-sync-health` job scheduler computes them on one
 * replica every SYNC_STATS_INTERVAL_MS and stores them in Redis; every replica loads that
 * snapshot into its gauges when scraped, so all replicas export the same, current figures. The
 * relay lag of the replica that relays comes from the relay itself (fresher).
 */
@Injectable()
export class SyncStats implements OnModuleInit {
  private readonly pool: Pool;
  private loading?: Promise<void>;
  private lastErrorLog = 0;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SYNC_CONFIG) private readonly config: SyncConfig,
  ) {
    this.pool = pgPool(dataSource);
  }

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
    const { rows } = await this.pool.query<HealthRow>(
      `SELECT (SELECT count(*) FROM sync_queue WHERE status = 'pending')::int AS pending,
              (SELECT count(*) FROM sync_queue
                WHERE status = 'failed' AND processed_at > now() - interval '1 hour')::int AS failed,
              (SELECT extract(epoch FROM now() - min(created_at)) FROM sync_queue WHERE status = 'pending')::float8
                AS oldest_pending_seconds,
              (SELECT avg(extract(epoch FROM completed_at - started_at)) FROM sync_sessions
                WHERE status = 'completed' AND started_at > now() - interval '24 hours')::float8 AS average_sync_seconds,
              (SELECT count(*) FROM sync_queue
                WHERE status IN ('applied', 'rejected', 'conflict', 'ignored', 'failed')
                  AND created_at > now() - interval '24 hours')::int AS mutations_24h,
              (SELECT count(*) FROM sync_queue WHERE status = 'conflict'
                  AND created_at > now() - interval '24 hours')::int AS conflicts_24h,
              (SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL)::int AS open_conflicts,
              (SELECT extract(epoch FROM now() - c.changed_at) FROM change_log c, sync_relay_state s
                WHERE s.name = $1 AND (c.txid, c.id) > (s.txid, s.change_id)
                ORDER BY c.txid, c.id LIMIT 1)::float8 AS relay_lag_seconds`,
      [RELAY_NAME],
    );
    const r = rows[0];
    const figures: SyncHealthFigures = {
      pending: r.pending,
      failed: r.failed,
      oldestPendingSeconds: r.oldest_pending_seconds ?? 0,
      averageSyncSeconds: r.average_sync_seconds ?? 0,
      conflictRate: rate(r.conflicts_24h, r.mutations_24h),
      openConflicts: r.open_conflicts,
      relayLagSeconds: Math.max(0, r.relay_lag_seconds ?? 0),
    };
    // Kept for a few intervals: a snapshot nobody refreshes any more disappears.
    const ttlMs = Math.max(60_000, 3 * this.config.SYNC_STATS_INTERVAL_MS);
    await this.redis.set(this.snapshotKey(), JSON.stringify(figures), 'PX', ttlMs);
    return figures;
  }
}
