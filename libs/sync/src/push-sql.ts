import type { StoredRow } from './rows';
import type { Row } from './rules';

/** What STORE_MUTATIONS_SQL answers: the session's owner and status, and the stored mutations. */
export interface StoreAnswerRow {
  session_user: string | null;
  session_status: string | null;
  rows: StoredRow[];
}

/**
 * Phase 1 of a push in one statement: the session check, the idempotent insert of the mutations
 * (new ones pending, only into the user's active session) and the stored row of each. $1 client,
 * $2 user, $3 session, $4 the mutations as a JSON array in request order.
 */
export const STORE_MUTATIONS_SQL = `WITH s AS (SELECT user_id, status FROM sync_sessions WHERE id = $3),
       m AS (
         SELECT * FROM jsonb_to_recordset($4::jsonb) AS m(ord int, mutation_id text, table_name text,
           record_id text, operation text, data jsonb, base_version int, client_updated_at timestamptz)
       ), ins AS (
         INSERT INTO sync_queue (client_id, mutation_id, user_id, session_id, table_name, record_id,
                                 operation, data, base_version, client_updated_at)
         SELECT $1, mutation_id, $2, $3, table_name, record_id, operation, data, base_version, client_updated_at
           FROM m WHERE EXISTS (SELECT 1 FROM s WHERE s.user_id = $2 AND s.status = 'active')
          ORDER BY ord
         ON CONFLICT (client_id, mutation_id) DO NOTHING
         RETURNING id, mutation_id, user_id, status, result
       )
       SELECT (SELECT user_id FROM s) AS session_user, (SELECT status FROM s) AS session_status,
              coalesce((SELECT json_agg(x) FROM (
                SELECT id, mutation_id, user_id, status, result FROM ins
                UNION ALL
                SELECT q.id, q.mutation_id, q.user_id, q.status, q.result
                  FROM sync_queue q JOIN m ON q.client_id = $1 AND q.mutation_id = m.mutation_id
                 WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.mutation_id = q.mutation_id)) x), '[]'::json) AS rows`;

/** Stored mutations of a client by mutation id ($1 client, $2 ids). */
export const STORED_MUTATIONS_SQL = `SELECT id, mutation_id, user_id, status, result FROM sync_queue WHERE client_id = $1 AND mutation_id = ANY($2::text[])`;

/**
 * Phase 2 starts with the per-client lock ($1 the [user, client] key, $3 the advisory-lock seed)
 * and marks the transaction's writes as the user's ($2) client sync in change_log.
 */
export const PUSH_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtextextended($1, $3)),
                set_config('bible.user_id', $2, true), set_config('bible.change_source', 'client_sync', true)`;

/** Locks the pending mutations to apply ($1 queue ids; QueueRow). */
export const LOCK_QUEUE_SQL = `SELECT id, mutation_id, user_id, status, result, table_name, record_id, operation, data,
                base_version, client_updated_at
           FROM sync_queue WHERE id = ANY($1::uuid[]) FOR UPDATE`;

/**
 * Records a push's outcomes in one statement: $1 the queue updates, $2 the conflicts (JSON
 * arrays), $3 session, $4 mutations uploaded, $5 conflicts; with $6 (something was written) it
 * answers the transaction's newest change_log position (PositionRow, nullable).
 */
export const RECORD_OUTCOMES_SQL = `WITH v AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, status text, result jsonb, error text)
         ), upd AS (
           UPDATE sync_queue q SET status = v.status, result = v.result, error = v.error,
                  attempts = q.attempts + 1, processed_at = now()
             FROM v WHERE q.id = v.id RETURNING 1
         ), conf AS (
           INSERT INTO sync_conflicts (id, queue_id, user_id, table_name, record_id, base_version,
                                       server_version, client_data, server_data)
           SELECT id, queue_id, user_id, table_name, record_id, base_version, server_version, client_data, server_data
             FROM jsonb_to_recordset($2::jsonb) AS c(id uuid, queue_id uuid, user_id text, table_name text,
               record_id text, base_version int, server_version int, client_data jsonb, server_data jsonb)
           RETURNING 1
         ), sess AS (
           UPDATE sync_sessions SET changes_uploaded = changes_uploaded + $4, conflicts_count = conflicts_count + $5
            WHERE id = $3 RETURNING 1
         )
         SELECT txid::text, max(id)::text AS id FROM change_log
          WHERE $6::boolean AND txid = change_log_current_txid() GROUP BY txid`;

/** The device of a session ($1 session). */
export const SESSION_DEVICE_SQL = `SELECT device_id FROM sync_sessions WHERE id = $1`;

/** One sync_conflicts row as RECORD_OUTCOMES_SQL inserts it ($2). */
export interface ConflictInsert {
  id: string;
  queue_id: string;
  user_id: string;
  table_name: string;
  record_id: string;
  base_version: number | null;
  server_version: number | null;
  client_data: Record<string, unknown> | null;
  server_data: Row | null;
}
