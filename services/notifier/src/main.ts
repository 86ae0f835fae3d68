import './instrument';
import { runService } from '@bible/common';
import { AppModule } from './app.module';
import { loadNotifierConfig } from './config';

async function main(): Promise<void> {
  const config = loadNotifierConfig();
  await runService({
    name: 'notifier',
    module: AppModule.register(config),
    port: config.NOTIFIER_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
}

void main();
