import './instrument';
import { serviceMain } from '@bible/common';
import { AppModule } from './app.module';
import { loadBuilderConfig } from './config';

serviceMain({
  name: 'package-builder',
  loadConfig: loadBuilderConfig,
  module: AppModule,
  port: (c) => c.BUILDER_PORT,
});
