import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger as NestLogger, LoggerModule, PinoLogger, type Params } from 'nestjs-pino';
import type { Logger } from 'pino';

/** Probes and scrapes are frequent and uninteresting: no access log line for them. */
const QUIET_PATH = /^\/(health|metrics)(\/|\?|$)/;

/**
 * nestjs-pino over the process's one pino logger (JSON, trace_id/span_id mixin, redaction):
 * pino-http writes one access line per request (warn for 4xx, error for 5xx) and binds a
 * request-scoped child, so whatever Nest or a provider logs during a request carries its `req.id`.
 * Only method, path (no query string: it may hold signed-URL parameters), id and status are
 * logged, never headers or bodies.
 */
export function loggingParams(logger: Logger): Params {
  return {
    pinoHttp: {
      logger,
      // The gateway's request-id middleware runs first and echoes X-Request-Id; reuse its id.
      genReqId: (req: IncomingMessage) =>
        (req as IncomingMessage & { requestId?: string }).requestId ?? randomUUID(),
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATH.test(req.url ?? '') },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url?.split('?', 1)[0],
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}

/** The module that mounts pino-http and the request-scoped logger binding. */
export function loggingModule(params: Params) {
  return LoggerModule.forRoot(params);
}

/** Nest's own logger (bootstrap, exceptions, lifecycle) as pino JSON with a `context` field. */
export function nestLogger(params: Params): NestLogger {
  return new NestLogger(new PinoLogger(params), params);
}
