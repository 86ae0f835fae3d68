import './instrument';
import { serviceMain } from '@bible/common';
import { AppModule } from './app.module';
import { loadSyncConfig } from './config';

serviceMain({
  name: 'sync-service',
  loadConfig: loadSyncConfig,
  module: AppModule,
  port: (c) => c.SYNC_PORT,
});
