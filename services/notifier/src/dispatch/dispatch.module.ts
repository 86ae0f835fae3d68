import { Module } from '@nestjs/common';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { BacklogGauges } from './backlog.gauges';
import { Dispatcher } from './dispatcher.service';
import { RecoveryService } from './recovery.service';

/** Events → webhook deliveries: the dispatcher, the recovery pass and the backlog gauges. */
@Module({
  imports: [WebhooksModule],
  providers: [Dispatcher, RecoveryService, BacklogGauges],
  exports: [RecoveryService],
})
export class DispatchModule {}
