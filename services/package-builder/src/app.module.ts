import { type DynamicModule, Module } from '@nestjs/common';
import { InfraModule, OperabilityModule, POSTGRES_PROBE, REDIS_PROBE } from '@bible/common';
import { S3_PROBE, StorageModule } from '@bible/storage';
import { BuildModule } from './build/build.module';
import { BUILDER_CONFIG, type BuilderConfig } from './config';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { SigningModule } from './signing/signing.module';

@Module({})
export class AppModule {
  static register(config: BuilderConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        InfraModule.forRoot({
          serviceName: 'package-builder',
          database: {
            url: config.DATABASE_URL,
            poolMax: config.DATABASE_POOL_MAX,
            statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
          },
          redisUrl: config.REDIS_URL,
        }),
        StorageModule.forRoot(config),
        OperabilityModule.register({ probes: [POSTGRES_PROBE, REDIS_PROBE, S3_PROBE] }),
        SigningModule,
        BuildModule,
        MaintenanceModule,
      ],
      providers: [{ provide: BUILDER_CONFIG, useValue: config }],
      exports: [BUILDER_CONFIG],
    };
  }
}
