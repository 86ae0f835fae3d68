import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { Counter } from 'prom-client';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, getLogger, metricsRegistry, pgPool, pruneEvents } from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';

const eventsPrunedTotal = new Counter({
  name: 'bible_events_pruned_total',
  help: 'Dispatched events deleted by retention.',
  registers: [metricsRegistry],
});

/** Batches per run: a run stays bounded even after a long outage; the next run goes on. */
const MAX_BATCHES_PER_RUN = 100;

/**
 * Event retention: deletes dispatched events past EVENTS_RETENTION_DAYS. Run by the
 * `prune-events` job scheduler of the notifier-maintenance queue (maintenance/).
 */
@Injectable()
export class EventRetention {
  private readonly pool: Pool;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
  ) {
    this.pool = pgPool(dataSource);
  }

  /** One pruning run; returns how many events it deleted. */
  async prune(): Promise<number> {
    const removed = await pruneEvents(this.pool, {
      retentionDays: this.config.EVENTS_RETENTION_DAYS,
      batchSize: this.config.EVENTS_PRUNE_BATCH_SIZE,
      maxBatches: MAX_BATCHES_PER_RUN,
    });
    eventsPrunedTotal.inc(removed);
    if (removed > 0) getLogger().info({ removed }, 'events pruned');
    return removed;
  }
}
