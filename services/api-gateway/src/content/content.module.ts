import { Module } from '@nestjs/common';
import { CatalogRepository } from '@bible/content';
import { CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';
import { ContentCache } from './content-cache';
import { PublishingController } from './publishing.controller';
import { PublishingService } from './publishing.service';

/** Catalog reads (cached), full-text search and publishing (docs/content.md). */
@Module({
  controllers: [CatalogController, PublishingController],
  providers: [CatalogRepository, CatalogService, ContentCache, PublishingService],
  exports: [ContentCache, CatalogRepository],
})
export class ContentModule {}
