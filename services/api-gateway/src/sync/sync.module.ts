import { Module } from '@nestjs/common';
import { SyncAdminService } from './sync-admin.service';
import { SyncConflictsService } from './sync-conflicts.service';
import { SyncFeedService } from './sync-feed.service';
import { SyncPushService } from './sync-push.service';
import { SyncSessionsService } from './sync-sessions.service';
import { SyncAdminController, SyncController } from './sync.controller';

/** Pull, push, sessions, conflicts and the admin views of sync (docs/sync.md). */
@Module({
  controllers: [SyncController, SyncAdminController],
  providers: [
    SyncFeedService,
    SyncPushService,
    SyncSessionsService,
    SyncConflictsService,
    SyncAdminService,
  ],
})
export class SyncModule {}
