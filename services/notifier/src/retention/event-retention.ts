import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { Counter } from 'prom-client';
import type { DataSource } from 'typeorm';
import {
  DATA_SOURCE,
  type NotifierMaintenanceJob,
  QueueName,
  REDIS,
  getLogger,
  metricsRegistry,
  pgPool,
  pruneEvents,
  queueDefaults,
  queuePrefix,
} from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';

const eventsPrunedTotal = new Counter({
  name: 'bible_events_pruned_total',
  help: 'Dispatched events deleted by retention.',
  registers: [metricsRegistry],
});

/** Batches per run: a run stays bounded even after a long outage; the next run goes on. */
const MAX_BATCHES_PER_RUN = 100;

/**
 * Event retention as a BullMQ job scheduler on the notifier-maintenance queue: every replica
 * upserts the same scheduler, and each occurrence runs on exactly one replica.
 */
@Injectable()
export class RetentionWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly queue: Queue<NotifierMaintenanceJob>;
  private readonly pool: Pool;
  private worker?: Worker<NotifierMaintenanceJob>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
  ) {
    this.pool = pgPool(dataSource);
    this.queue = new Queue<NotifierMaintenanceJob>(QueueName.NotifierMaintenance, {
      prefix: queuePrefix(),
      connection: redis,
      defaultJobOptions: queueDefaults[QueueName.NotifierMaintenance],
    });
    this.queue.on('error', () => undefined);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      'prune-events',
      { every: this.config.EVENTS_PRUNE_INTERVAL_MS },
      { name: 'prune-events', data: { task: 'prune-events' } },
    );
    this.worker = new Worker<NotifierMaintenanceJob>(
      QueueName.NotifierMaintenance,
      (job) => this.run(job),
      { prefix: queuePrefix(), connection: this.redis.duplicate(), concurrency: 1 },
    );
    this.worker.on('error', (error) =>
      getLogger().error({ err: error.message }, 'notifier maintenance worker error'),
    );
  }

  private async run(job: Job<NotifierMaintenanceJob>): Promise<{ removed: number }> {
    switch (job.data.task) {
      case 'prune-events': {
        const removed = await pruneEvents(this.pool, {
          retentionDays: this.config.EVENTS_RETENTION_DAYS,
          batchSize: this.config.EVENTS_PRUNE_BATCH_SIZE,
          maxBatches: MAX_BATCHES_PER_RUN,
        });
        eventsPrunedTotal.inc(removed);
        if (removed > 0) getLogger().info({ removed }, 'events pruned');
        return { removed };
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
