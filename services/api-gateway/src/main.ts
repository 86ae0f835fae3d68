import './instrument';
import { RequestMethod } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { serviceMain } from '@bible/common';
import type { Server } from 'node:http';
import { AppModule } from './app.module';
import { applyConnectionLimits } from './common/connection-limits';
import { requestIdMiddleware } from './common/request-id';
import { loadGatewayConfig } from './config';

serviceMain({
  name: 'api-gateway',
  loadConfig: loadGatewayConfig,
  module: AppModule,
  port: (c) => c.GATEWAY_PORT,
  bodyParser: false,
  configure: (app, config) => {
    applyConnectionLimits(app.getHttpServer() as Server, {
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      maxConnectionsPerIp: config.HTTP_MAX_CONNECTIONS_PER_IP,
    });
    const express = app as NestExpressApplication;
    express.set('trust proxy', config.TRUST_PROXY);
    express.disable('x-powered-by');
    express.use(requestIdMiddleware);
    express.useBodyParser('json', { limit: '5mb' });
    app.setGlobalPrefix('v1', {
      exclude: [
        { path: 'health/live', method: RequestMethod.GET },
        { path: 'health/ready', method: RequestMethod.GET },
        { path: 'metrics', method: RequestMethod.GET },
      ],
    });
  },
});
