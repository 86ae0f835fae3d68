import pino, { type Logger, type LoggerOptions } from 'pino';
import { currentTraceIds } from './otel';

/** Paths never written to logs (tokens, secrets, signed URLs). */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.accessToken',
  '*.privateKey',
  'headers.authorization',
];

export function loggerOptions(
  service: string,
  level = process.env.LOG_LEVEL ?? 'info',
): LoggerOptions {
  return {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Every line carries the active trace so logs join traces across the queue.
    mixin: () => currentTraceIds(),
    redact: { paths: redactPaths, censor: '[redacted]' },
  };
}

let root: Logger | undefined;

/** The process-wide structured JSON logger (stdout). */
export function createLogger(service: string): Logger {
  root ??= pino(loggerOptions(service));
  return root;
}

export function getLogger(): Logger {
  return root ?? createLogger(process.env.SERVICE_NAME ?? 'bible');
}
