import { Module } from '@nestjs/common';
import './core-routes';
import { OpenApiController } from './openapi.controller';

@Module({ controllers: [OpenApiController] })
export class OpenApiModule {}
