import { Module } from '@nestjs/common';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { BacklogGauges } from './backlog.gauges';
import { Dispatcher } from './dispatcher.service';

/** Events → webhook deliveries: the dispatcher and the backlog gauges (recovery: maintenance/). */
@Module({ imports: [WebhooksModule], providers: [Dispatcher, BacklogGauges] })
export class DispatchModule {}
