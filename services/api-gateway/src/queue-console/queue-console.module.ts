import { Module } from '@nestjs/common';
import { QueueConsoleService } from './queue-console.service';

/** Bull Board for operators on an internal port (see QueueConsoleService). */
@Module({ providers: [QueueConsoleService] })
export class QueueConsoleModule {}
