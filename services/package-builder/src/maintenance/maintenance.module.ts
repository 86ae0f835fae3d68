import { Module } from '@nestjs/common';
import { MaintenanceWorker } from './maintenance.worker';

@Module({ providers: [MaintenanceWorker], exports: [MaintenanceWorker] })
export class MaintenanceModule {}
