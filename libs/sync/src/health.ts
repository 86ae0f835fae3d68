import type { Pool } from 'pg';
import { RELAY_NAME } from './relay-rules';

/** Alert thresholds of the original design (also the Helm chart's PrometheusRule defaults). */
export const PENDING_ALERT_THRESHOLD = 100;
export const FAILED_ALERT_THRESHOLD = 10;

/** The sync health figures as SYNC_HEALTH_SQL reads them. */
export interface HealthRow {
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

/**
 * Pending mutations (stored, not yet applied), failed ones (last attempt failed within the last
 * hour: the alerting figure; `failed_total` counts every failed row not yet retried), oldest
 * pending, average sync time and conflicts over 24 h, and the relay's backlog age ($1: the relay).
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
  LEFT JOIN sync_relay_state s ON s.name = $1`;

/** Reads the sync health figures (GET /v1/admin/sync/health and the sync-service's gauges). */
export class SyncHealthRepository {
  constructor(private readonly pool: Pool) {}

  async read(): Promise<HealthRow> {
    const { rows } = await this.pool.query<HealthRow>(SYNC_HEALTH_SQL, [RELAY_NAME]);
    return rows[0];
  }
}

/** The figures the sync-service exports as gauges (and shares between replicas as a snapshot). */
export interface SyncHealthFigures {
  pending: number;
  failed: number;
  oldestPendingSeconds: number;
  averageSyncSeconds: number;
  conflictRate: number;
  openConflicts: number;
  relayLagSeconds: number;
}

/** Conflicts over mutations processed in the window (0 when none were processed). */
export function rate(conflicts: number, processed: number): number {
  return processed > 0 ? conflicts / processed : 0;
}

export function healthFigures(r: HealthRow): SyncHealthFigures {
  return {
    pending: r.pending,
    failed: r.failed,
    oldestPendingSeconds: r.oldest_pending_seconds ?? 0,
    averageSyncSeconds: r.average_sync_seconds ?? 0,
    conflictRate: rate(r.conflicts_24h, r.mutations_24h),
    openConflicts: r.open_conflicts,
    relayLagSeconds: Math.max(0, r.relay_lag_seconds ?? 0),
  };
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
