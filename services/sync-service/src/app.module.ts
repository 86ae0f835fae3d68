import { type DynamicModule, Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, pgPool, serviceModule } from '@bible/common';
import { SyncHealthRepository } from '@bible/sync';
import { SYNC_CONFIG, type SyncConfig } from './config';
import { syncSchedules } from './maintenance/sync-schedules';
import { ChangeRelay } from './relay/change-relay.service';
import { SyncStats } from './stats/sync-stats.service';

@Module({})
export class AppModule {
  static register(config: SyncConfig): DynamicModule {
    return serviceModule(AppModule, 'sync-service', SYNC_CONFIG, config, {
      providers: [
        {
          provide: SyncHealthRepository,
          inject: [DATA_SOURCE],
          useFactory: (dataSource: DataSource) => new SyncHealthRepository(pgPool(dataSource)),
        },
        ChangeRelay,
        SyncStats,
        syncSchedules,
      ],
    });
  }
}
