import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  QueueName,
  REDIS,
  type WebhookAttempt,
  type WebhookDeliveryJob,
  queueDefaults,
  queuePrefix,
  reportQueueDepth,
  stopReportingQueueDepth,
  webhookAttemptJob,
} from '@bible/common';

/** The `webhooks` queue as the dispatcher, the worker and the recovery pass add to it. */
@Injectable()
export class WebhookQueue implements OnModuleDestroy {
  readonly queue: Queue<WebhookDeliveryJob>;

  constructor(@Inject(REDIS) redis: Redis) {
    this.queue = new Queue<WebhookDeliveryJob>(QueueName.Webhooks, {
      prefix: queuePrefix(),
      connection: redis,
      defaultJobOptions: queueDefaults[QueueName.Webhooks],
    });
    this.queue.on('error', () => undefined);
    reportQueueDepth(this.queue);
  }

  /** Adds attempts; an attempt whose job already exists is left as it is (deterministic ids). */
  async add(attempts: readonly WebhookAttempt[]): Promise<void> {
    if (attempts.length === 0) return;
    await this.queue.addBulk(attempts.map(webhookAttemptJob));
  }

  /** Jobs ready to run (the dispatcher's back-pressure signal; scheduled retries do not count). */
  async queued(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async onModuleDestroy(): Promise<void> {
    stopReportingQueueDepth(this.queue);
    await this.queue.close().catch(() => undefined);
  }
}
