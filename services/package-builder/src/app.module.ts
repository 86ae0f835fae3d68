import { type DynamicModule, Module } from '@nestjs/common';
import { serviceModule } from '@bible/common';
import { S3_PROBE, StorageModule } from '@bible/storage';
import { BuildModule } from './build/build.module';
import { BUILDER_CONFIG, type BuilderConfig } from './config';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { SigningModule } from './signing/signing.module';

@Module({})
export class AppModule {
  static register(config: BuilderConfig): DynamicModule {
    return serviceModule(AppModule, 'package-builder', BUILDER_CONFIG, config, {
      probes: [S3_PROBE],
      imports: [StorageModule.forRoot(config), SigningModule, BuildModule, MaintenanceModule],
    });
  }
}
