import { Controller, Get } from '@nestjs/common';
import { Public } from '@bible/common';
import { buildOpenApiDocument } from './registry';

@Public()
@Controller()
export class OpenApiController {
  private document?: Record<string, unknown>;

  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    this.document ??= buildOpenApiDocument('1.0.0');
    return this.document;
  }
}
