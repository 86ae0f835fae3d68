import { Module } from '@nestjs/common';
import { DownloadsService } from '../downloads/downloads.service';
import { BuildQueue } from './build-queue';
import { JobEvents } from './job-events';
import { PackagesController } from './packages.controller';
import { PackagesRepository } from './packages.repository';
import { PackagesService } from './packages.service';

@Module({
  controllers: [PackagesController],
  providers: [PackagesRepository, PackagesService, BuildQueue, DownloadsService, JobEvents],
})
export class PackagesModule {}
