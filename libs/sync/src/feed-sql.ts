import type { ScopeColumn } from './relay-rules';

/** What FEED_CHECK_SQL answers about a pull's cursor and versions. */
export interface CheckRow {
  next_txid: string;
  last_id: string | null;
  horizons: { col: ScopeColumn; txid: string; id: string }[] | null;
  text_status: string | null;
  text_deleted: boolean | null;
  audio_status: string | null;
  audio_deleted: boolean | null;
}

/** One page of the feed (pageSql): the JSON array of changes as text, and the last position. */
export interface PageRow {
  fetched: number;
  last_txid: string | null;
  last_id: string | null;
  changes: string;
}

const CHANGE_COLUMNS = `txid, id, table_name, record_id, operation, new_data, record_version, changed_at`;

/** One scope's keyset scan: served by idx_change_log_<scope>_txid_id, stops below the safe xmin. */
function scopeScan(column: ScopeColumn, param: string): string {
  return `(SELECT ${CHANGE_COLUMNS} FROM change_log
            WHERE ${column} = ${param} AND (txid, id) > ($1::bigint, $2::bigint) AND txid < (SELECT x FROM safe)
            ORDER BY txid, id LIMIT $3::int + 1)`;
}

/**
 * A page of change_log in one or two scopes after ($1 txid, $2 id), at most $3 changes, $4 the
 * text version, $5 the audio version (PageRow); one row more is read to tell whether more follow.
 */
export function pageSql(scopes: ScopeColumn[]): string {
  const scans = scopes.map((column) =>
    scopeScan(column, column === 'text_version_id' ? '$4' : '$5'),
  );
  const raw =
    scans.length === 1
      ? scans[0]
      : `(SELECT * FROM (${scans.join(' UNION ALL ')}) u ORDER BY txid, id LIMIT $3::int + 1)`;
  return `
WITH safe AS (SELECT change_log_safe_xmin() AS x, $4::text AS text_scope, $5::text AS audio_scope),
raw AS ${raw},
page AS (SELECT * FROM raw ORDER BY txid, id LIMIT $3::int),
last AS (SELECT txid, id FROM page ORDER BY txid DESC, id DESC LIMIT 1)
SELECT (SELECT count(*) FROM raw)::int AS fetched,
       (SELECT txid::text FROM last) AS last_txid,
       (SELECT id::text FROM last) AS last_id,
       (SELECT coalesce(json_agg((SELECT c FROM (SELECT p.table_name AS "table", p.record_id AS "recordId",
                   p.operation AS operation, CASE WHEN p.operation = 'DELETE' THEN NULL ELSE p.new_data END AS data,
                   p.record_version AS version, p.changed_at AS "changedAt") c) ORDER BY p.txid, p.id), '[]'::json)
          FROM page p)::text AS changes`;
}

/**
 * One round trip before a pull ($1 text version, $2 audio version; CheckRow): the feed's end (next
 * txid, last change id), the scopes' retention horizons, and the versions' status.
 */
export const FEED_CHECK_SQL = `SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next_txid,
              (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM change_log_id_seq)::text AS last_id,
              (SELECT json_agg(json_build_object('col', scope_column, 'txid', txid::text, 'id', change_id::text))
                 FROM change_log_horizons
                WHERE (scope_column = 'text_version_id' AND scope_id = $1)
                   OR (scope_column = 'audio_version_id' AND scope_id = $2)) AS horizons,
              tv.publish_status AS text_status, tv.deleted_at IS NOT NULL AS text_deleted,
              av.publish_status AS audio_status, av.deleted_at IS NOT NULL AS audio_deleted
         FROM (SELECT 1) one
         LEFT JOIN text_versions tv ON tv.id = $1
         LEFT JOIN audio_versions av ON av.id = $2`;

/** A feed position as text columns (bigints exceed JavaScript numbers). */
export interface PositionRow {
  txid: string;
  id: string;
}

/** The newest readable feed position (no row: the feed is empty). */
export const HEAD_POSITION_SQL = `SELECT c.txid::text, c.id::text FROM change_log c
        WHERE c.txid < change_log_safe_xmin() ORDER BY c.txid DESC, c.id DESC LIMIT 1`;

/** Inside a writing transaction: its own newest change, or else the newest readable one. */
export const POSITION_AFTER_WRITE_SQL = `SELECT txid::text, id::text FROM (
         (SELECT txid, id FROM change_log WHERE txid = change_log_current_txid() ORDER BY id DESC LIMIT 1)
         UNION ALL
         (SELECT txid, id FROM change_log WHERE txid < change_log_safe_xmin() ORDER BY txid DESC, id DESC LIMIT 1)
       ) s ORDER BY s.txid DESC, s.id DESC LIMIT 1`;

/** The row image of a record at a version ($1 table, $2 record, $3 version; `new_data`). */
export const RECORD_STATE_AT_SQL = `SELECT new_data FROM change_log
        WHERE table_name = $1 AND record_id = $2 AND record_version = $3 AND new_data IS NOT NULL
        ORDER BY id DESC LIMIT 1`;
