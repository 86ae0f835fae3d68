import { type DynamicModule, type INestApplication, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { createLogger } from '../telemetry/logger';
import { httpRequestDuration, httpRequestsTotal, initMetrics } from '../telemetry/metrics';
import { shutdownTelemetry, traceparentHeader } from '../telemetry/otel';
import { markShuttingDown } from './lifecycle';
import { loggingModule, loggingParams, nestLogger } from './logging';

export interface RunServiceOptions {
  name: string;
  module: Type<unknown> | DynamicModule;
  port: number;
  host?: string;
  shutdownTimeoutMs: number;
  /** Set false when the service installs its own body parsers (limits, raw streams). */
  bodyParser?: boolean;
  /** Extra setup before listen (global prefix, filters, middleware, OpenAPI...). */
  configure?: (app: INestApplication) => void | Promise<void>;
}

/**
 * What a service's main.ts states: its name, config loader, root module and port. The config is
 * loaded (and validated, failing fast) before anything else starts.
 */
export interface ServiceMain<C extends { SHUTDOWN_TIMEOUT_MS: number }> {
  name: string;
  loadConfig: () => C;
  module: { register(config: C): DynamicModule };
  port: (config: C) => number;
  bodyParser?: boolean;
  configure?: (app: INestApplication, config: C) => void | Promise<void>;
}

/** Loads the config, then runs the service (see runService); a config error ends the process. */
export function serviceMain<C extends { SHUTDOWN_TIMEOUT_MS: number }>(
  options: ServiceMain<C>,
): void {
  const { loadConfig, module, port, configure, ...rest } = options;
  void (async () => {
    const config = loadConfig();
    await runService({
      ...rest,
      module: module.register(config),
      port: port(config),
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      configure: configure && ((app) => configure(app, config)),
    });
  })();
}

function httpMetrics(req: Request, res: Response, next: NextFunction): void {
  const end = httpRequestDuration.startTimer();
  res.on('finish', () => {
    // Route templates, never raw URLs: label cardinality stays bounded.
    const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
    const labels = {
      method: req.method,
      route: `${req.baseUrl}${route}`,
      status_code: String(res.statusCode),
    };
    httpRequestsTotal.inc(labels);
    end(labels);
  });
  next();
}

/**
 * Every response names the trace it belongs to (W3C `traceparent` of the server span), so a client
 * or an operator can go from a response straight to its log lines and spans.
 */
function traceparentResponse(_req: Request, res: Response, next: NextFunction): void {
  const traceparent = traceparentHeader();
  if (traceparent) res.setHeader('traceparent', traceparent);
  next();
}

/** Wraps each service's module with the logging module (pino-http and Nest's logger). */
@Module({})
class ServiceRootModule {}

/**
 * Boots a service: JSON logs, metrics, HTTP (health, metrics, API), and an ordered graceful
 * shutdown on SIGTERM/SIGINT: readiness turns 503 and the listener stops accepting, then module
 * hooks close workers and queues (onModuleDestroy), then pools (onApplicationShutdown), then
 * telemetry. A hard timeout bounds the whole sequence; unfinished jobs are released by their locks.
 */
export async function runService(options: RunServiceOptions): Promise<INestApplication> {
  const logger = createLogger(options.name);
  initMetrics(options.name);

  // Process warnings become JSON log lines instead of free text on stderr.
  process.removeAllListeners('warning');
  process.on('warning', (warning) =>
    logger.warn({ warning: warning.name, detail: warning.message }, 'process warning'),
  );
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });

  // The runtime as the process sees it (also exported as nodejs_version_info by prom-client).
  logger.info(
    { node: process.version, v8: process.versions.v8, abi: process.versions.modules },
    `${options.name} starting on Node ${process.version}`,
  );

  const logging = loggingParams(logger);
  const root: DynamicModule = {
    module: ServiceRootModule,
    imports: [loggingModule(logging), options.module],
  };
  let app: INestApplication;
  try {
    app = await NestFactory.create(root, {
      logger: nestLogger(logging),
      abortOnError: false,
      bodyParser: options.bodyParser ?? true,
    });
    app.use(traceparentResponse);
    app.use(httpMetrics);
    await options.configure?.(app);
    await app.listen(options.port, options.host ?? '0.0.0.0');
  } catch (error) {
    // A service that cannot start must exit non-zero so its supervisor restarts or reports it.
    logger.fatal({ err: error }, `${options.name} failed to start`);
    logger.flush();
    process.exit(1);
  }
  logger.info({ port: options.port }, `${options.name} listening`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutdown started');
    markShuttingDown();
    const hardStop = setTimeout(() => {
      logger.error({ timeoutMs: options.shutdownTimeoutMs }, 'shutdown timed out, exiting');
      process.exit(1);
    }, options.shutdownTimeoutMs);
    hardStop.unref();

    const server = app.getHttpServer() as Server;
    server.close();
    server.closeIdleConnections();
    void (async () => {
      try {
        await app.close();
        await shutdownTelemetry();
        logger.info('shutdown complete');
        logger.flush();
        process.exit(0);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return app;
}
