import { Module } from '@nestjs/common';
import { FanoutWorker } from './fanout/fanout.worker';
import { NotificationRepository } from './notification.repository';
import { PushProviders } from './providers/push-providers';
import { PushDispatcher } from './push-dispatcher.service';
import { PushQueues } from './push-queues';
import { SendWorker } from './send.worker';

/** Device push: events → fan-out pages → per-provider sends (docs/notifications.md). */
@Module({
  providers: [
    PushQueues,
    PushProviders,
    NotificationRepository,
    PushDispatcher,
    FanoutWorker,
    SendWorker,
  ],
  exports: [PushQueues],
})
export class PushModule {}
