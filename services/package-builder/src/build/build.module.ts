import { Module } from '@nestjs/common';
import { BuildWorker } from './build.worker';
import { PackageBuildService } from './package-build.service';
import { PublishRepository } from './publish.repository';
import { BuildWorkspace } from './workspace';

@Module({ providers: [PackageBuildService, PublishRepository, BuildWorker, BuildWorkspace] })
export class BuildModule {}
