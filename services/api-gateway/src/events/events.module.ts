import { Module } from '@nestjs/common';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/** The replayable event feed; the same events the notifier delivers as webhooks (docs/events.md). */
@Module({ controllers: [EventsController], providers: [EventsService] })
export class EventsModule {}
