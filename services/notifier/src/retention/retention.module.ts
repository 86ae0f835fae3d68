import { Module } from '@nestjs/common';
import { RetentionWorker } from './retention.worker';

/** Deletes dispatched events past EVENTS_RETENTION_DAYS (docs/events.md, Retention). */
@Module({ providers: [RetentionWorker] })
export class RetentionModule {}
