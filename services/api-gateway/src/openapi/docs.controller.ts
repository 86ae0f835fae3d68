import { Controller, Get, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { dirname, join } from 'node:path';
import { AppError, ErrorCode, Public } from '@bible/common';

/** Scalar's self-contained browser build, installed from npm and served from this gateway. */
const ASSETS = join(dirname(require.resolve('@scalar/api-reference')), 'browser');

/**
 * Everything the page loads comes from this gateway: the policy refuses any other origin, so
 * the reference works offline and behind firewalls and never calls a CDN.
 */
const POLICY = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Offline Bible package platform API reference</title>
  </head>
  <body>
    <div id="api-reference"></div>
    <script src="/v1/docs/assets/standalone.js"></script>
    <script src="/v1/docs/init.js"></script>
  </body>
</html>
`;

const INIT = `Scalar.createApiReference('#api-reference', {
  url: '/v1/openapi.json',
  withDefaultFonts: false,
  defaultOpenAllTags: true,
  hideClientButton: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
});
`;

/** Interactive API reference of the OpenAPI document at /v1/docs. */
@Public()
@Controller('docs')
export class DocsController {
  @Get()
  page(@Res() res: Response): void {
    res
      .type('html')
      .setHeader('Content-Security-Policy', POLICY)
      .setHeader('Cache-Control', 'no-cache')
      .send(PAGE);
  }

  @Get('init.js')
  init(@Res() res: Response): void {
    res.type('application/javascript').setHeader('Cache-Control', 'no-cache').send(INIT);
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    if (!/^[A-Za-z0-9._-]+\.js(\.map)?$/.test(file) || file.startsWith('.'))
      throw new AppError(404, ErrorCode.NotFound, 'No such asset');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.sendFile(file, { root: ASSETS }, (error) => {
      if (error && !res.headersSent)
        res
          .status(404)
          .type('application/json')
          .end(JSON.stringify({ error: 'NOT_FOUND' }));
    });
  }
}
