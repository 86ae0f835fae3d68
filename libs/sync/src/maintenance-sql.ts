/*
 * The sync-service's housekeeping statements (services/sync-service maintenance), each bounded so
 * one job run stays short.
 */

/** Sessions still active $1 seconds after they started become `expired`. */
export const EXPIRE_SESSIONS_SQL = `
      UPDATE sync_sessions SET status = 'expired', completed_at = now()
       WHERE status = 'active' AND started_at < now() - make_interval(secs => $1::float8)`;

/** Mutations left `pending` for $1 seconds by an interrupted push become `failed` (a retry applies them). */
export const FAIL_INTERRUPTED_SQL = `
      UPDATE sync_queue SET status = 'failed', processed_at = now(),
             error = 'INTERRUPTED: the push was interrupted before this mutation was applied; push it again to retry'
       WHERE id IN (SELECT id FROM sync_queue
                     WHERE status = 'pending' AND created_at < now() - make_interval(secs => $1::float8)
                     ORDER BY created_at LIMIT 1000 FOR UPDATE SKIP LOCKED)`;

/** Processed sync_queue rows older than $1 seconds are removed, a bounded batch at a time. */
export const PRUNE_QUEUE_SQL = `
      DELETE FROM sync_queue WHERE id IN (
        SELECT id FROM sync_queue
         WHERE status IN ('applied', 'rejected', 'conflict', 'ignored', 'failed')
           AND created_at < now() - make_interval(secs => $1::float8)
         LIMIT 5000 FOR UPDATE SKIP LOCKED)`;

/**
 * One retention batch: among the oldest relayed rows, those older than the retention period that
 * have a newer row in their scope (or no scope) are deleted; the newest deleted position of each
 * scope is recorded as its horizon in the same statement.
 */
export const COMPACT_SQL = `
WITH relay AS (SELECT txid, change_id FROM sync_relay_state WHERE name = $1),
window_rows AS (
  SELECT c.id, c.txid, c.changed_at, c.audio_version_id, c.text_version_id
    FROM change_log c, relay r
   WHERE (c.txid, c.id) <= (r.txid, r.change_id)
   ORDER BY c.txid, c.id LIMIT $3
),
doomed AS (
  SELECT w.* FROM window_rows w
   WHERE w.changed_at < now() - make_interval(secs => $2::float8)
     AND ((w.audio_version_id IS NULL AND w.text_version_id IS NULL)
          OR EXISTS (SELECT 1 FROM change_log n WHERE n.audio_version_id = w.audio_version_id
                        AND (n.txid, n.id) > (w.txid, w.id))
          OR EXISTS (SELECT 1 FROM change_log n WHERE n.text_version_id = w.text_version_id
                        AND (n.txid, n.id) > (w.txid, w.id)))
),
del AS (
  DELETE FROM change_log c USING doomed d WHERE c.id = d.id
  RETURNING c.txid, c.id, c.audio_version_id, c.text_version_id
),
scopes AS (
  SELECT DISTINCT ON (col, scope_id) col, scope_id, txid, id FROM (
    SELECT 'audio_version_id' AS col, audio_version_id AS scope_id, txid, id FROM del WHERE audio_version_id IS NOT NULL
    UNION ALL
    SELECT 'text_version_id', text_version_id, txid, id FROM del WHERE text_version_id IS NOT NULL
  ) s ORDER BY col, scope_id, txid DESC, id DESC
),
horizons AS (
  INSERT INTO change_log_horizons (scope_column, scope_id, txid, change_id)
  SELECT col, scope_id, txid, id FROM scopes
  ON CONFLICT (scope_column, scope_id) DO UPDATE
     SET txid = EXCLUDED.txid, change_id = EXCLUDED.change_id, updated_at = now()
   WHERE (change_log_horizons.txid, change_log_horizons.change_id) < (EXCLUDED.txid, EXCLUDED.change_id)
  RETURNING 1
)
SELECT (SELECT count(*) FROM del)::int AS deleted, (SELECT count(*) FROM horizons)::int AS horizons`;
