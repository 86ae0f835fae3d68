import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { serviceModule } from '@bible/common';
import { S3_PROBE, StorageModule } from '@bible/storage';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { ErrorEnvelopeFilter } from './common/error.filter';
import { EventsModule } from './events/events.module';
import { ContentModule } from './content/content.module';
import { GATEWAY_CONFIG, type GatewayConfig } from './config';
import { MediaFilesModule } from './media-files/media-files.module';
import { OpenApiModule } from './openapi/openapi.module';
import { PackagesModule } from './packages/packages.module';
import { PushModule } from './push/push.module';
import { QueueConsoleModule } from './queue-console/queue-console.module';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { SyncModule } from './sync/sync.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static register(config: GatewayConfig): DynamicModule {
    return serviceModule(AppModule, 'api-gateway', GATEWAY_CONFIG, config, {
      // Request paths answer 503 at once during a Redis outage; nothing waits to run later.
      redisFailFast: true,
      probes: [S3_PROBE],
      imports: [
        StorageModule.forRoot(config),
        AuthModule,
        RateLimitModule,
        OpenApiModule,
        PackagesModule,
        SyncModule,
        ContentModule,
        MediaFilesModule,
        WebhooksModule,
        EventsModule,
        PushModule,
        QueueConsoleModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ErrorEnvelopeFilter },
        // Global guards run in this order: authenticate first, so limits apply per user and per IP.
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_GUARD, useExisting: RateLimitGuard },
      ],
    });
  }
}
