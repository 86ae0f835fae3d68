import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  AppError,
  ErrorCode,
  type ErrorBody,
  type ErrorDetail,
  getLogger,
  isDependencyUnavailable,
  postgresDataError,
} from '@bible/common';

/** Seconds a client waits before retrying while Postgres or Redis is unreachable. */
const UNAVAILABLE_RETRY_AFTER = '5';

const codeByStatus: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  416: ErrorCode.RangeNotSatisfiable,
  429: ErrorCode.RateLimited,
  503: ErrorCode.ServiceUnavailable,
};

/** Renders every error as the contract's `{ error, message, details, requestId, timestamp }`. */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let code: string = ErrorCode.Internal;
    let outage = false;
    let message = 'Internal server error';
    let details: ErrorDetail[] = [];

    if (exception instanceof AppError) {
      outage = exception.status === 503;
      status = exception.status;
      code = exception.code;
      message = exception.message;
      details = exception.details;
      for (const [name, value] of Object.entries(exception.headers)) res.setHeader(name, value);
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      code = codeByStatus[status] ?? (status >= 500 ? ErrorCode.Internal : 'HTTP_ERROR');
      const body = exception.getResponse();
      message =
        typeof body === 'string'
          ? body
          : ((body as { message?: string }).message ?? exception.message);
      if (Array.isArray(message)) message = message.join('; ');
      // Body-parser errors (malformed JSON, too large) surface as HttpExceptions with a 4xx status.
      if (status === 400 && /JSON/i.test(message)) details = [{ field: 'body', message }];
    } else if (isBodyParserError(exception)) {
      status = exception.status;
      code = status === 413 ? ErrorCode.PayloadTooLarge : ErrorCode.ValidationFailed;
      message = exception.message;
      details = [{ field: 'body', message: exception.message }];
    } else if (postgresDataError(exception) !== undefined) {
      // A value the schemas let through but Postgres cannot store: the input is still wrong.
      status = HttpStatus.BAD_REQUEST;
      code = ErrorCode.ValidationFailed;
      message = 'Request validation failed';
      details = [{ field: 'input', message: postgresDataError(exception) as string }];
      getLogger().warn(
        { err: details[0].message, requestId: req.requestId, path: req.path },
        'input refused by the database (a schema should refuse it first)',
      );
    } else if (isDependencyUnavailable(exception)) {
      // An outage, not a bug: one line per request (no stack), and the client is told to retry.
      status = HttpStatus.SERVICE_UNAVAILABLE;
      code = ErrorCode.ServiceUnavailable;
      outage = true;
      message = 'A dependency of this service is unavailable; retry shortly';
      res.setHeader('Retry-After', UNAVAILABLE_RETRY_AFTER);
      getLogger().warn(
        { err: (exception as Error).message, requestId: req.requestId, path: req.path },
        'request refused: dependency unavailable',
      );
    }

    if (outage && exception instanceof AppError)
      // A dependency refused or failed (the service that met it logged the cause): one line.
      getLogger().warn(
        { status, code, message, requestId: req.requestId, path: req.path },
        'request refused: dependency unavailable',
      );
    else if (status >= 500 && !outage) {
      if (exception instanceof HttpException)
        // A deliberate 5xx (readiness answering 503 while a dependency is down, every probe):
        // one line with what the response says, no stack.
        getLogger().warn(
          { status, path: req.path, response: exception.getResponse() },
          'request answered with a server status',
        );
      else
        getLogger().error(
          { err: exception, requestId: req.requestId, path: req.path },
          'request failed',
        );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A handler may have set a representation's validators and caching before it failed (the
    // download route does): an error must never be cached as if it were that representation.
    for (const name of ['ETag', 'Last-Modified', 'Content-Disposition', 'X-Served-From'])
      res.removeHeader(name);
    res.setHeader('Cache-Control', 'no-store');
    const body: ErrorBody = {
      error: code,
      message,
      details,
      requestId: req.requestId ?? '',
      timestamp: new Date().toISOString(),
    };
    // end(), not json(): Express would add a weak ETag to the error body.
    res.status(status).type('application/json').end(JSON.stringify(body));
  }
}

function isBodyParserError(e: unknown): e is { status: number; message: string; type: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { status?: unknown }).status === 'number' &&
    typeof (e as { type?: unknown }).type === 'string'
  );
}
