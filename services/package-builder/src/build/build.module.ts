import { Module } from '@nestjs/common';
import { BuildWorker } from './build.worker';
import { PackageBuildService } from './package-build.service';
import { PublishRepository } from './publish.repository';

@Module({ providers: [PackageBuildService, PublishRepository, BuildWorker] })
export class BuildModule {}
