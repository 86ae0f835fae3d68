import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, getLogger } from '@bible/common';
import { SYNC_CONFIG, type SyncConfig } from '../config';
import {
  averageSyncSeconds,
  conflictRate,
  failedMutations,
  oldestPendingSeconds,
  openConflicts,
  pendingMutations,
  relayLagSeconds,
} from '../metrics';
import { pgPool } from '@bible/common';
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

/**
 * Refreshes the sync health gauges from Postgres (the same figures as
 * GET /v1/admin/sync/health); the Helm chart alerts on pending > 100 and failed > 10.
 */
@Injectable()
export class SyncStats implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly pool: Pool;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopping = false;
  private lastErrorLog = 0;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(SYNC_CONFIG) private readonly config: SyncConfig,
  ) {
    this.pool = pgPool(dataSource);
  }

  onApplicationBootstrap(): void {
    const tick = () => {
      if (this.stopping) return;
      this.running = this.refresh()
        .catch((error: Error) => {
          if (Date.now() - this.lastErrorLog > 60_000) {
            this.lastErrorLog = Date.now();
            getLogger().warn({ err: error.message }, 'sync health refresh failed');
          }
        })
        .finally(() => {
          if (!this.stopping) this.timer = setTimeout(tick, this.config.SYNC_STATS_INTERVAL_MS);
        });
    };
    tick();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

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
    pendingMutations.set(figures.pending);
    failedMutations.set(figures.failed);
    oldestPendingSeconds.set(figures.oldestPendingSeconds);
    averageSyncSeconds.set(figures.averageSyncSeconds);
    conflictRate.set(figures.conflictRate);
    openConflicts.set(figures.openConflicts);
    relayLagSeconds.set(figures.relayLagSeconds);
    return figures;
  }
}
