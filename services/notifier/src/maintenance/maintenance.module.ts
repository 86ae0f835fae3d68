import { Module } from '@nestjs/common';
import { QueueName, maintenanceScheduleProvider } from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { DispatchModule } from '../dispatch/dispatch.module';
import { RecoveryService } from '../dispatch/recovery.service';
import { RetentionModule } from '../retention/retention.module';
import { EventRetention } from '../retention/event-retention';

/**
 * The notifier's periodic work as job schedulers on the notifier-maintenance queue (each
 * occurrence runs on one replica): event retention and the webhook recovery pass.
 */
const notifierSchedules = maintenanceScheduleProvider(
  QueueName.NotifierMaintenance,
  [NOTIFIER_CONFIG, EventRetention, RecoveryService],
  (config: NotifierConfig, retention: EventRetention, recovery: RecoveryService) => ({
    'prune-events': {
      every: config.EVENTS_PRUNE_INTERVAL_MS,
      run: async () => ({ removed: await retention.prune() }),
    },
    'recover-webhook-jobs': {
      every: RecoveryService.interval(config),
      run: async () => ({ deliveries: await recovery.recoverOnce() }),
    },
  }),
);

@Module({ imports: [DispatchModule, RetentionModule], providers: [notifierSchedules] })
export class MaintenanceModule {}
