import { type DynamicModule, Module } from '@nestjs/common';
import { InfraModule, OperabilityModule, POSTGRES_PROBE, REDIS_PROBE } from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from './config';
import { DispatchModule } from './dispatch/dispatch.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { PushModule } from './push/push.module';
import { RetentionModule } from './retention/retention.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static register(config: NotifierConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        InfraModule.forRoot({
          serviceName: 'notifier',
          database: {
            url: config.DATABASE_URL,
            poolMax: config.DATABASE_POOL_MAX,
            statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
          },
          redisUrl: config.REDIS_URL,
        }),
        OperabilityModule.register({ probes: [POSTGRES_PROBE, REDIS_PROBE] }),
        WebhooksModule,
        DispatchModule,
        RetentionModule,
        MaintenanceModule,
        PushModule,
      ],
      providers: [{ provide: NOTIFIER_CONFIG, useValue: config }],
      exports: [NOTIFIER_CONFIG],
    };
  }
}
