import './instrument';
import { runService } from '@bible/common';
import { AppModule } from './app.module';
import { loadBuilderConfig } from './config';

async function main(): Promise<void> {
  const config = loadBuilderConfig();
  await runService({
    name: 'package-builder',
    module: AppModule.register(config),
    port: config.BUILDER_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
}

void main();
