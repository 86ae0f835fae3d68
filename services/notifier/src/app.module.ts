import { type DynamicModule, Module } from '@nestjs/common';
import { serviceModule } from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from './config';
import { DispatchModule } from './dispatch/dispatch.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { PushModule } from './push/push.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static register(config: NotifierConfig): DynamicModule {
    return serviceModule(AppModule, 'notifier', NOTIFIER_CONFIG, config, {
      imports: [WebhooksModule, DispatchModule, MaintenanceModule, PushModule],
    });
  }
}
