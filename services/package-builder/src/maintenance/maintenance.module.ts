import { Module } from '@nestjs/common';
import { QueueName, maintenanceScheduleProvider } from '@bible/common';
import { BUILDER_CONFIG, type BuilderConfig } from '../config';
import { MaintenanceWorker } from './maintenance.worker';

/** The builders' job schedulers on the `maintenance` queue (each occurrence on one replica). */
const builderSchedules = maintenanceScheduleProvider(
  QueueName.Maintenance,
  [BUILDER_CONFIG, MaintenanceWorker],
  (config: BuilderConfig, worker: MaintenanceWorker) => ({
    'sweep-multipart-uploads': {
      every: config.MAINTENANCE_INTERVAL_MS,
      run: async () => ({ removed: await worker.sweepMultipartUploads() }),
    },
    'prune-packages': {
      every: config.MAINTENANCE_INTERVAL_MS,
      run: async () => ({ removed: await worker.pruneStalePackages() }),
    },
  }),
);

@Module({ providers: [MaintenanceWorker, builderSchedules], exports: [MaintenanceWorker] })
export class MaintenanceModule {}
