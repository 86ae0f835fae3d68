import type { Pool } from 'pg';
import { Counter } from 'prom-client';
import { getLogger, metricsRegistry, pruneEvents } from '@bible/common';
import type { RetentionConfig } from './retention.config';

const eventsPrunedTotal = new Counter({
  name: 'bible_events_pruned_total',
  help: 'Dispatched events deleted by retention.',
  registers: [metricsRegistry],
});

/** Batches per run: a run stays bounded even after a long outage; the next run goes on. */
const MAX_BATCHES_PER_RUN = 100;

/**
 * Event retention, one run: deletes dispatched events past EVENTS_RETENTION_DAYS and returns how
 * many. Run by the `prune-events` job scheduler of the notifier-maintenance queue (maintenance/).
 */
export async function pruneExpiredEvents(
  pool: Pool,
  config: Pick<RetentionConfig, 'EVENTS_RETENTION_DAYS' | 'EVENTS_PRUNE_BATCH_SIZE'>,
): Promise<number> {
  const removed = await pruneEvents(pool, {
    retentionDays: config.EVENTS_RETENTION_DAYS,
    batchSize: config.EVENTS_PRUNE_BATCH_SIZE,
    maxBatches: MAX_BATCHES_PER_RUN,
  });
  eventsPrunedTotal.inc(removed);
  if (removed > 0) getLogger().info({ removed }, 'events pruned');
  return removed;
}
