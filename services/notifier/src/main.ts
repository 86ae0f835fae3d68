import './instrument';
import { serviceMain } from '@bible/common';
import { AppModule } from './app.module';
import { loadNotifierConfig } from './config';

serviceMain({
  name: 'notifier',
  loadConfig: loadNotifierConfig,
  module: AppModule,
  port: (c) => c.NOTIFIER_PORT,
});
