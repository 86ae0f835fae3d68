/** Stable error codes of the public API (`{ error: CODE }`). Never rename; only add. */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  Unauthorized = 'UNAUTHORIZED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  Gone = 'GONE',
  Conflict = 'CONFLICT',
  RateLimited = 'RATE_LIMITED',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  RangeNotSatisfiable = 'RANGE_NOT_SATISFIABLE',
  PkgVersionNotPublished = 'PKG_VERSION_NOT_PUBLISHED',
  SyncCursorInvalid = 'SYNC_CURSOR_INVALID',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  Internal = 'INTERNAL',
}

export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `body.books.2` or `query.limit`. */
  field: string;
  message: string;
  code?: string;
}

/** Error body of every non-2xx answer (see docs/http-api.md, Conventions). */
export interface ErrorBody {
  error: ErrorCode | string;
  message: string;
  details: ErrorDetail[];
  requestId: string;
  timestamp: string;
}

/** Domain error carrying an HTTP status and a stable code; thrown anywhere, rendered by the gateway filter. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}
