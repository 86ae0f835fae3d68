/*
 * The change relay's statements (services/sync-service relay): read a batch of the readable feed,
 * advance the stored position with compare-and-set, mark the touched scopes' older packages stale.
 */

/**
 * A batch of change_log after ($1 txid, $2 id), strictly below change_log_safe_xmin(), at most $3
 * rows (FeedRow). The book of a row comes from its verse (verse texts, timings) or chapter (media
 * files), looked up for the batch only; only those two keys are taken from the row images.
 */
export const RELAY_BATCH_SQL = `WITH batch AS MATERIALIZED (
         SELECT c.txid, c.id, c.table_name, c.operation, c.record_id, c.audio_version_id,
                c.text_version_id, c.changed_at,
                coalesce(c.new_data->>'verse_id', c.old_data->>'verse_id',
                         c.new_data->>'start_verse_id', c.old_data->>'start_verse_id') AS verse_id,
                coalesce(c.new_data->>'chapter_id', c.old_data->>'chapter_id') AS chapter_id
           FROM change_log c
          WHERE (c.txid, c.id) > ($1::bigint, $2::bigint) AND c.txid < change_log_safe_xmin()
          ORDER BY c.txid, c.id LIMIT $3)
       SELECT b.txid::text, b.id::text, b.table_name, b.operation, b.record_id, b.audio_version_id,
              b.text_version_id, b.changed_at, ch.book_id
         FROM batch b
         LEFT JOIN verses v ON v.id = b.verse_id
         LEFT JOIN chapters ch ON ch.id = coalesce(v.chapter_id, b.chapter_id)
        ORDER BY b.txid, b.id`;

/**
 * Moves relay $1 from ($2, $3) to ($4, $5) (last change at $6, $7 more relayed); touches no row
 * when another relay moved the position first.
 */
export const ADVANCE_RELAY_SQL = `UPDATE sync_relay_state
            SET txid = $4, change_id = $5, last_changed_at = $6, relayed_count = relayed_count + $7, updated_at = now()
          WHERE name = $1 AND txid = $2 AND change_id = $3`;

/** Ready generations of the scopes in $1 (InvalidationTarget[] as JSON) built before the target become stale. */
export const INVALIDATE_GENERATIONS_SQL = `UPDATE package_generations g SET status = 'stale', stale_at = now()
           FROM jsonb_to_recordset($1::jsonb) AS c(col text, scope_id text, txid bigint, id bigint)
          WHERE g.status = 'ready'
            AND ((c.col = 'audio_version_id' AND g.audio_version_id = c.scope_id)
              OR (c.col = 'text_version_id' AND g.text_version_id = c.scope_id))
            AND CASE WHEN g.content_revision ~ '^[0-9]{1,19}\\.[0-9]{1,19}$'
                     THEN (split_part(g.content_revision, '.', 1)::bigint, split_part(g.content_revision, '.', 2)::bigint)
                          < (c.txid, c.id)
                     ELSE true END`;

/**
 * Creates relay $1's position on first start at the current head of the readable feed (history
 * before the relay existed is not replayed: packages are built from current content).
 */
export const INIT_RELAY_POSITION_SQL = `INSERT INTO sync_relay_state (name, txid, change_id)
       SELECT $1, coalesce(h.txid, 0), coalesce(h.id, 0)
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (SELECT txid, id FROM change_log WHERE txid < change_log_safe_xmin()
                             ORDER BY txid DESC, id DESC LIMIT 1) h ON true
       ON CONFLICT (name) DO NOTHING`;

/** Relay $1's stored position. */
export const RELAY_POSITION_SQL = `SELECT txid::text, change_id::text FROM sync_relay_state WHERE name = $1`;

/** Has relay $1 passed ($2 txid, $3 id)? One row `ok` once the relay exists. */
export const RELAY_PASSED_SQL = `SELECT (txid, change_id) >= ($2::bigint, $3::bigint) AS ok FROM sync_relay_state WHERE name = $1`;

/** The first change after ($1, $2), readable or still held back by an open transaction. */
export const NEXT_CHANGE_SQL = `SELECT changed_at FROM change_log WHERE (txid, id) > ($1::bigint, $2::bigint) ORDER BY txid, id LIMIT 1`;
