import { type DynamicModule, Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  DATA_SOURCE,
  InfraModule,
  OperabilityModule,
  POSTGRES_PROBE,
  REDIS_PROBE,
  pgPool,
} from '@bible/common';
import { SyncHealthRepository } from '@bible/sync';
import { SYNC_CONFIG, type SyncConfig } from './config';
import { SyncMaintenance } from './maintenance/sync-maintenance.service';
import { syncSchedules } from './maintenance/sync-schedules';
import { ChangeRelay } from './relay/change-relay.service';
import { SyncStats } from './stats/sync-stats.service';

@Module({})
export class AppModule {
  static register(config: SyncConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        InfraModule.forRoot({
          serviceName: 'sync-service',
          database: {
            url: config.DATABASE_URL,
            poolMax: config.DATABASE_POOL_MAX,
            statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
          },
          redisUrl: config.REDIS_URL,
        }),
        OperabilityModule.register({ probes: [POSTGRES_PROBE, REDIS_PROBE] }),
      ],
      providers: [
        { provide: SYNC_CONFIG, useValue: config },
        {
          provide: SyncHealthRepository,
          inject: [DATA_SOURCE],
          useFactory: (dataSource: DataSource) => new SyncHealthRepository(pgPool(dataSource)),
        },
        ChangeRelay,
        SyncMaintenance,
        SyncStats,
        syncSchedules,
      ],
      exports: [SYNC_CONFIG],
    };
  }
}
