import { Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, QueueName, maintenanceScheduleProvider, pgPool } from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { recoverWebhookJobs, recoveryInterval } from '../dispatch/recovery.service';
import { PushModule } from '../push/push.module';
import { PushQueues } from '../push/push-queues';
import { pushRecoveryInterval, recoverPushSends } from '../push/push-recovery';
import { pruneExpiredEvents } from '../retention/event-retention';
import { WebhookQueue } from '../webhooks/webhook-queue';
import { WebhooksModule } from '../webhooks/webhooks.module';

/**
 * The notifier's periodic work as job schedulers on the notifier-maintenance queue (each
 * occurrence runs on one replica): event retention and the webhook and push recovery passes.
 */
const notifierSchedules = maintenanceScheduleProvider(
  QueueName.NotifierMaintenance,
  [NOTIFIER_CONFIG, DATA_SOURCE, WebhookQueue, PushQueues],
  (config: NotifierConfig, dataSource: DataSource, queue: WebhookQueue, push: PushQueues) => {
    const pool = pgPool(dataSource);
    return {
      'prune-events': {
        every: config.EVENTS_PRUNE_INTERVAL_MS,
        run: async () => ({ removed: await pruneExpiredEvents(pool, config) }),
      },
      'recover-webhook-jobs': {
        every: recoveryInterval(config),
        run: async () => ({ deliveries: await recoverWebhookJobs(pool, queue, config) }),
      },
      'recover-push-sends': {
        every: pushRecoveryInterval(config),
        run: async () => ({ notifications: await recoverPushSends(pool, push, config) }),
      },
    };
  },
);

@Module({ imports: [WebhooksModule, PushModule], providers: [notifierSchedules] })
export class MaintenanceModule {}
