import './instrument';
import { runService } from '@bible/common';
import { AppModule } from './app.module';
import { loadSyncConfig } from './config';

async function main(): Promise<void> {
  const config = loadSyncConfig();
  await runService({
    name: 'sync-service',
    module: AppModule.register(config),
    port: config.SYNC_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
}

void main();
