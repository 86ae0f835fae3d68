import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError, ErrorCode, type ErrorBody, type ErrorDetail, getLogger } from '@bible/common';

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
    let message = 'Internal server error';
    let details: ErrorDetail[] = [];

    if (exception instanceof AppError) {
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
    }

    if (status >= 500) {
      getLogger().error(
        { err: exception, requestId: req.requestId, path: req.path },
        'request failed',
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body: ErrorBody = {
      error: code,
      message,
      details,
      requestId: req.requestId ?? '',
      timestamp: new Date().toISOString(),
    };
    res.status(status).json(body);
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
