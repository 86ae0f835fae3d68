import type { Pool } from 'pg';

export interface PruneEventsOptions {
  retentionDays: number;
  batchSize: number;
  /** Upper bound of batches per run; the next run goes on. */
  maxBatches: number;
}

/**
 * Deletes dispatched events older than the retention, oldest first, in bounded batches (each its
 * own statement and transaction). Events not yet dispatched to webhooks or to device push are
 * kept whatever their age: nothing accepted is lost because the notifier was down. Returns how
 * many it deleted.
 */
export async function pruneEvents(pool: Pool, options: PruneEventsOptions): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < options.maxBatches; batch++) {
    const { rowCount } = await pool.query(
      `DELETE FROM events WHERE id IN (
         SELECT id FROM events
          WHERE created_at < now() - make_interval(secs => $1::float8 * 86400)
            AND dispatched_at IS NOT NULL
            AND push_dispatched_at IS NOT NULL
          ORDER BY created_at LIMIT $2)`,
      [options.retentionDays, options.batchSize],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < options.batchSize) break;
  }
  return total;
}
