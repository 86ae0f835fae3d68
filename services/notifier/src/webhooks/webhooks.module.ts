import { Module } from '@nestjs/common';
import { DeliveryRepository } from './delivery.repository';
import { DeliveryWorker } from './delivery.worker';
import { WebhookQueue } from './webhook-queue';

/** Webhook delivery attempts: the BullMQ worker, its SQL and the queue it adds retries to. */
@Module({
  providers: [WebhookQueue, DeliveryRepository, DeliveryWorker],
  exports: [WebhookQueue],
})
export class WebhooksModule {}
