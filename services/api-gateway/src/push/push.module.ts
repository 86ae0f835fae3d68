import { Module } from '@nestjs/common';
import { PushController } from './push.controller';
import { PushRepository } from './push.repository';
import { PushService } from './push.service';

/** Device tokens, notifications and preferences; sending is the notifier's (docs/notifications.md). */
@Module({
  controllers: [PushController],
  providers: [PushRepository, PushService],
})
export class PushModule {}
