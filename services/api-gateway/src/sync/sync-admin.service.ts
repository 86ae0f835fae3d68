import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@bible/common';
import { pgPool } from './pg';

/** Alert thresholds of the original design (also the Helm chart's PrometheusRule defaults). */
export const PENDING_ALERT_THRESHOLD = 100;
export const FAILED_ALERT_THRESHOLD = 10;

interface AnalyticsRow {
  day: string;
  total: number;
  avg_changes: number | null;
  successful: number;
  failed: number;
  avg_duration: number | null;
}

interface HealthRow {
  pending: number;
  failed: number;
  failed_total: number;
  oldest_pending_seconds: number | null;
  average_sync_seconds: number | null;
  mutations_24h: number;
  conflicts_24h: number;
  open_conflicts: number;
  relayed_count: string | null;
  relay_updated_at: Date | null;
  relay_lag_seconds: number | null;
}

const round = (n: number | null, digits = 3) =>
  n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits;

/** Admin views over sync bookkeeping (the same figures sync-service exports as metrics). */
@Injectable()
export class SyncAdminService {
  private readonly pool: Pool;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.pool = pgPool(dataSource);
  }

  /** Per day: syncs started, average changes moved, successes, failures, average duration. */
  async analytics(days: number) {
    const { rows } = await this.pool.query<AnalyticsRow>(
      `SELECT to_char(date_trunc('day', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
              count(*)::int AS total,
              avg(changes_downloaded + changes_uploaded)::float8 AS avg_changes,
              (count(*) FILTER (WHERE status = 'completed'))::int AS successful,
              (count(*) FILTER (WHERE status = 'failed'))::int AS failed,
              (avg(extract(epoch FROM completed_at - started_at)) FILTER (WHERE completed_at IS NOT NULL))::float8 AS avg_duration
         FROM sync_sessions
        WHERE started_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $1 - 1)
        GROUP BY 1 ORDER BY 1 DESC`,
      [days],
    );
    return {
      days,
      items: rows.map((r) => ({
        date: r.day,
        totalSyncs: r.total,
        averageChanges: round(r.avg_changes ?? 0) ?? 0,
        successfulSyncs: r.successful,
        failedSyncs: r.failed,
        averageDurationSeconds: round(r.avg_duration),
      })),
    };
  }

  /**
   * Pending mutations (stored, not yet applied), failed ones (last attempt failed within the last
   * hour: the alerting figure; `failedTotal` counts every failed row not yet retried), oldest
   * pending, average sync time and conflict rate over 24 h, and the relay's backlog age.
   */
  async health() {
    const { rows } = await this.pool.query<HealthRow>(SYNC_HEALTH_SQL);
    const r = rows[0];
    return {
      pending: r.pending,
      failed: r.failed,
      failedTotal: r.failed_total,
      oldestPendingSeconds: round(r.oldest_pending_seconds),
      averageSyncSeconds: round(r.average_sync_seconds),
      conflictRate: r.mutations_24h > 0 ? (round(r.conflicts_24h / r.mutations_24h, 4) ?? 0) : 0,
      mutations24h: r.mutations_24h,
      openConflicts: r.open_conflicts,
      relay: {
        lagSeconds: round(r.relay_lag_seconds ?? 0) ?? 0,
        relayedCount: Number(r.relayed_count ?? 0),
        updatedAt: r.relay_updated_at ? r.relay_updated_at.toISOString() : null,
      },
      alerts: {
        pendingHigh: r.pending > PENDING_ALERT_THRESHOLD,
        failedHigh: r.failed > FAILED_ALERT_THRESHOLD,
      },
    };
  }
}

/**
 * Every figure through an index: sync_queue (status, created_at), sync_sessions (status,
 * started_at), the partial index of open conflicts, change_log (txid, id) for the relay backlog.
 */
export const SYNC_HEALTH_SQL = `
SELECT (SELECT count(*) FROM sync_queue WHERE status = 'pending')::int AS pending,
       (SELECT count(*) FROM sync_queue
         WHERE status = 'failed' AND processed_at > now() - interval '1 hour')::int AS failed,
       (SELECT count(*) FROM sync_queue WHERE status = 'failed')::int AS failed_total,
       (SELECT extract(epoch FROM now() - min(created_at)) FROM sync_queue WHERE status = 'pending')::float8
         AS oldest_pending_seconds,
       (SELECT avg(extract(epoch FROM completed_at - started_at)) FROM sync_sessions
         WHERE status = 'completed' AND started_at > now() - interval '24 hours')::float8 AS average_sync_seconds,
       (SELECT count(*) FROM sync_queue
         WHERE status IN ('applied', 'rejected', 'conflict', 'ignored', 'failed')
           AND created_at > now() - interval '24 hours')::int AS mutations_24h,
       (SELECT count(*) FROM sync_queue WHERE status = 'conflict' AND created_at > now() - interval '24 hours')::int
         AS conflicts_24h,
       (SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL)::int AS open_conflicts,
       s.relayed_count::text AS relayed_count, s.updated_at AS relay_updated_at,
       coalesce((SELECT extract(epoch FROM now() - c.changed_at) FROM change_log c
                  WHERE (c.txid, c.id) > (s.txid, s.change_id) ORDER BY c.txid, c.id LIMIT 1), 0)::float8
         AS relay_lag_seconds
  FROM (SELECT 1) one
  LEFT JOIN sync_relay_state s ON s.name = 'change-events'`;
