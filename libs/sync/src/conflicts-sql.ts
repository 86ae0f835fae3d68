/** One conflict with its mutation id (ConflictRow); callers append WHERE / ORDER BY. */
export const CONFLICT_SELECT = `SELECT c.id, c.user_id, c.table_name, c.record_id, q.mutation_id, c.base_version, c.server_version,
                       c.client_data, c.server_data, c.resolution, c.resolved_data, c.created_at,
                       to_json(c.created_at)#>>'{}' AS created_at_text, c.resolved_at
                  FROM sync_conflicts c LEFT JOIN sync_queue q ON q.id = c.queue_id`;

export type ConflictStatusFilter = 'open' | 'resolved' | 'all';

/**
 * A page of the user's conflicts, newest first: $1 user, $2/$3 the (created_at, id) keyset
 * position to continue after (null: from the start), $4 limit.
 */
export function listConflictsSql(status: ConflictStatusFilter): string {
  const filter =
    status === 'open'
      ? 'AND c.resolved_at IS NULL'
      : status === 'resolved'
        ? 'AND c.resolved_at IS NOT NULL'
        : '';
  return `${CONFLICT_SELECT}
        WHERE c.user_id = $1 ${filter}
          AND ($2::timestamptz IS NULL OR (c.created_at, c.id) < ($2::timestamptz, $3::uuid))
        ORDER BY c.created_at DESC, c.id DESC LIMIT $4`;
}

/** Locks one conflict for its resolution: $1 id. */
export const LOCK_CONFLICT_SQL = `${CONFLICT_SELECT} WHERE c.id = $1 FOR UPDATE OF c`;

/** Writes of this transaction are logged as the user's conflict resolution: $1 user. */
export const RESOLUTION_CONTEXT_SQL = `SELECT set_config('bible.user_id', $1, true), set_config('bible.change_source', 'conflict_resolution', true)`;

/** Records a resolution ($1 id, $2 resolution, $3 merged data, $4 user) and returns the ConflictRow. */
export const RESOLVE_CONFLICT_SQL = `WITH u AS (
           UPDATE sync_conflicts SET resolution = $2, resolved_data = $3, resolved_at = now(), resolved_by = $4
            WHERE id = $1 RETURNING *)
         SELECT u.id, u.user_id, u.table_name, u.record_id, q.mutation_id, u.base_version, u.server_version,
                u.client_data, u.server_data, u.resolution, u.resolved_data, u.created_at,
                to_json(u.created_at)#>>'{}' AS created_at_text, u.resolved_at
           FROM u LEFT JOIN sync_queue q ON q.id = u.queue_id`;
