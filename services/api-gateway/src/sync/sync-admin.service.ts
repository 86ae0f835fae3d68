import { Injectable } from '@nestjs/common';
import {
  type AnalyticsRow,
  FAILED_ALERT_THRESHOLD,
  PENDING_ALERT_THRESHOLD,
  SYNC_ANALYTICS_SQL,
  SyncHealthRepository,
} from '@bible/sync';
import { PgService } from './pg';

const round = (n: number | null, digits = 3) =>
  n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits;

/** Admin views over sync bookkeeping (the same figures sync-service exports as metrics). */
@Injectable()
export class SyncAdminService extends PgService {
  private readonly healthRepository = new SyncHealthRepository(this.pool);

  /** Per day: syncs started, average changes moved, successes, failures, average duration. */
  async analytics(days: number) {
    const { rows } = await this.pool.query<AnalyticsRow>(SYNC_ANALYTICS_SQL, [days]);
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
    const r = await this.healthRepository.read();
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
