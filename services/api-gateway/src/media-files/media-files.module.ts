import { Module } from '@nestjs/common';
import { QueueName, maintenanceScheduleProvider } from '@bible/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { ContentModule } from '../content/content.module';
import { IngestService } from './ingest.service';
import { MediaFilesController } from './media-files.controller';
import { MediaFilesRepository } from './media-files.repository';
import { MediaSweeper } from './media-sweeper';
import { TimingsService } from './timings.service';

/** The gateway's job scheduler (gateway-maintenance queue): the media sweep; 0 disables it. */
const gatewaySchedules = maintenanceScheduleProvider(
  QueueName.GatewayMaintenance,
  [GATEWAY_CONFIG, MediaSweeper],
  (config: GatewayConfig, sweeper: MediaSweeper) => ({
    'sweep-media': { every: config.MEDIA_SWEEP_INTERVAL_MS, run: () => sweeper.run() },
  }),
);

/** Audio ingest, verse timings and the orphan sweeper (docs/content.md). */
@Module({
  imports: [ContentModule],
  controllers: [MediaFilesController],
  providers: [MediaFilesRepository, IngestService, TimingsService, MediaSweeper, gatewaySchedules],
})
export class MediaFilesModule {}
