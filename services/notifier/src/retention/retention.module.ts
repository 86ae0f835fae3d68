import { Module } from '@nestjs/common';
import { EventRetention } from './event-retention';

/** Deletes dispatched events past EVENTS_RETENTION_DAYS (docs/events.md, Retention). */
@Module({ providers: [EventRetention], exports: [EventRetention] })
export class RetentionModule {}
