import type { Sql } from './sql';
import type { ValidTiming } from './verse-timings';

export interface TimingChanges {
  inserted: number;
  updated: number;
  deleted: number;
}

/**
 * Makes a media file's live timings exactly `timings`: unchanged rows are left alone (no version
 * bump, nothing logged), changed and new rows are upserted (reviving soft-deleted ones), and the
 * rest are soft-deleted (DELETE tombstones in the change feed). Runs inside the caller's
 * transaction; used by the gateway's timings API and the import CLI.
 */
export async function replaceTimings(
  sql: Sql,
  mediaFileId: string,
  timings: ValidTiming[],
): Promise<TimingChanges> {
  const verseIds = timings.map((t) => t.verseId);
  const [written] = await sql<{ inserted: number; updated: number }>(
    `WITH written AS (
       INSERT INTO media_files_verses AS t (id, media_file_id, verse_id, start_time_seconds, duration_seconds)
       SELECT $1 || '-' || x.verse_id, $1, x.verse_id, x.start, x.duration
         FROM unnest($2::text[], $3::float8[], $4::float8[]) AS x (verse_id, start, duration)
       ON CONFLICT (media_file_id, verse_id) DO UPDATE SET
         start_time_seconds = EXCLUDED.start_time_seconds,
         duration_seconds = EXCLUDED.duration_seconds, deleted_at = NULL
       WHERE (t.start_time_seconds, t.duration_seconds) IS DISTINCT FROM
             (EXCLUDED.start_time_seconds, EXCLUDED.duration_seconds) OR t.deleted_at IS NOT NULL
       RETURNING (xmax = 0) AS inserted
     )
     SELECT count(*) FILTER (WHERE inserted)::int AS inserted,
            count(*) FILTER (WHERE NOT inserted)::int AS updated FROM written`,
    [
      mediaFileId,
      verseIds,
      timings.map((t) => t.startSeconds),
      timings.map((t) => t.durationSeconds),
    ],
  );
  const deleted = await sql<{ id: string }>(
    `UPDATE media_files_verses SET deleted_at = now()
      WHERE media_file_id = $1 AND deleted_at IS NULL AND NOT (verse_id = ANY($2::text[]))
      RETURNING id`,
    [mediaFileId, verseIds],
  );
  return { inserted: written.inserted, updated: written.updated, deleted: deleted.length };
}
