/**
 * Errors that mean a dependency is unreachable or refusing work for now (not that the request or
 * the code is wrong): the API answers them 503 with Retry-After, as a client should simply retry.
 */

/** SQLSTATEs of a database that is shutting down, starting, overloaded or gone. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '53300', // too_many_connections
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
]);

/** Socket-level failures reaching any dependency. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Messages node-postgres and its pool use for connection failures (they carry no code). */
const PG_UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /Cannot use a pool after calling end on the pool/,
];

/** ioredis errors while Redis is unreachable (offline queue disabled or retries spent). */
const REDIS_UNAVAILABLE_MESSAGES = [
  /enableOfflineQueue options is false/,
  /^Connection is closed\.?$/,
  /Reached the max retries per request limit/,
  /^Command timed out$/,
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  name?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function matches(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const e = error as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if ([...PG_UNAVAILABLE_MESSAGES, ...REDIS_UNAVAILABLE_MESSAGES].some((re) => re.test(message)))
    return true;
  // TypeORM wraps driver errors; AggregateError (happy eyeballs) holds one per address.
  if (matches(e.driverError, depth + 1) || matches(e.cause, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.some((inner) => matches(inner, depth + 1));
}

/** True when `error` says Postgres or Redis is unreachable, shutting down or out of connections. */
export function isDependencyUnavailable(error: unknown): boolean {
  return matches(error);
}

/**
 * The message of a Postgres data exception (SQLSTATE class 22: out of range, invalid text,
 * untranslatable character...): input validation should have refused it, and it is still the
 * client's input, so the API answers 400 rather than 500.
 */
export function postgresDataError(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as ErrorLike;
  if (typeof e.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code) && typeof e.message === 'string')
    return e.message;
  return e.driverError === undefined ? undefined : postgresDataError(e.driverError);
}
