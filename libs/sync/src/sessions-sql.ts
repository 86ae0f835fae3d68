/** The columns of sync_sessions every statement below returns (SessionRow). */
export const SESSION_COLUMNS = `id, user_id, device_id, package_id, status, started_at, completed_at, changes_downloaded,
                 changes_uploaded, conflicts_count`;

/** $1 user, $2 device, $3 package, $4 start cursor. */
export const CREATE_SESSION_SQL = `INSERT INTO sync_sessions (user_id, device_id, package_id, start_cursor)
       VALUES ($1, $2, $3, $4) RETURNING ${SESSION_COLUMNS}`;

/** $1 session id. */
export const GET_SESSION_SQL = `SELECT ${SESSION_COLUMNS} FROM sync_sessions WHERE id = $1`;

/**
 * Closes an active session of the user: $1 id, $2 user, $3 status, $4 the client's download count
 * (the larger figure is kept), $5 end cursor, $6 error.
 */
export const COMPLETE_SESSION_SQL = `UPDATE sync_sessions
          SET status = $3, completed_at = now(),
              changes_downloaded = greatest(changes_downloaded, coalesce($4::int, 0)),
              end_cursor = coalesce($5, end_cursor), error = $6
        WHERE id = $1 AND user_id = $2 AND status = 'active'
        RETURNING ${SESSION_COLUMNS}`;

/** Counts a pull's changes on the user's active session: $1 id, $2 user, $3 count. */
export const COUNT_DOWNLOADS_SQL = `UPDATE sync_sessions SET changes_downloaded = changes_downloaded + $3
          WHERE id = $1 AND user_id = $2 AND status = 'active'`;

/** Per UTC day of the last $1 days: one row of AnalyticsRow. */
export interface AnalyticsRow {
  day: string;
  total: number;
  avg_changes: number | null;
  successful: number;
  failed: number;
  avg_duration: number | null;
}

/** Syncs started, average changes moved, successes, failures, average duration, per day. */
export const SYNC_ANALYTICS_SQL = `SELECT to_char(date_trunc('day', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
              count(*)::int AS total,
              avg(changes_downloaded + changes_uploaded)::float8 AS avg_changes,
              (count(*) FILTER (WHERE status = 'completed'))::int AS successful,
              (count(*) FILTER (WHERE status = 'failed'))::int AS failed,
              (avg(extract(epoch FROM completed_at - started_at)) FILTER (WHERE completed_at IS NOT NULL))::float8 AS avg_duration
         FROM sync_sessions
        WHERE started_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $1 - 1)
        GROUP BY 1 ORDER BY 1 DESC`;
