import { Module } from '@nestjs/common';
import { ContentModule } from '../content/content.module';
import { IngestService } from './ingest.service';
import { MediaFilesController } from './media-files.controller';
import { MediaFilesRepository } from './media-files.repository';
import { MediaSweeper } from './media-sweeper';
import { TimingsService } from './timings.service';

/** Audio ingest, verse timings and the orphan sweeper (docs/content.md). */
@Module({
  imports: [ContentModule],
  controllers: [MediaFilesController],
  providers: [MediaFilesRepository, IngestService, TimingsService, MediaSweeper],
})
export class MediaFilesModule {}
