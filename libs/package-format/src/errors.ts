/**
 * Stable error codes. Clients and tests match on `code`, never on the message, so these strings
 * are part of the public contract: add new ones, never rename.
 */
export const PACKAGE_ERROR_CODES = [
  // Container / header
  'BAD_MAGIC',
  'UNSUPPORTED_VERSION',
  'HEADER_CRC_MISMATCH',
  'HEADER_INVALID',
  'TRUNCATED',
  'LENGTH_MISMATCH',
  'TRAILER_INVALID',
  'CONTENT_HASH_MISMATCH',
  // Manifest
  'MANIFEST_INVALID_JSON',
  'MANIFEST_SCHEMA',
  'MANIFEST_MISMATCH',
  'AUDIO_INDEX_INVALID',
  'DATABASE_HASH_MISMATCH',
  'AUDIO_DATA_HASH_MISMATCH',
  'TOTAL_CONTENT_HASH_MISMATCH',
  // Database
  'DATABASE_UNREADABLE',
  'DATABASE_INTEGRITY',
  'DATABASE_SCHEMA',
  // Audio files
  'AUDIO_FILE_HASH_MISMATCH',
  'AUDIO_FILE_NOT_FOUND',
  // Signature
  'SIGNATURE_MISSING',
  'SIGNATURE_UNKNOWN_KEY',
  'SIGNATURE_INVALID',
  // Environment / caller
  'IO_ERROR',
  'INVALID_INPUT',
  'INVALID_KEY',
  // Delta packages
  'DELTA_INVALID',
  'DELTA_BASE_MISMATCH',
] as const;

export type PackageErrorCode = (typeof PACKAGE_ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(PACKAGE_ERROR_CODES);

export class PackageFormatError extends Error {
  override readonly name = 'PackageFormatError';

  constructor(
    readonly code: PackageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

export function isPackageFormatError(err: unknown): err is PackageFormatError {
  return err instanceof PackageFormatError && KNOWN_CODES.has(err.code);
}

/** Node system errors (ENOENT, EACCES, ...) carry a string `code`; anything else is a bug and is rethrown. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

/**
 * Converts I/O failures into `IO_ERROR` while letting programming errors (TypeError, ...)
 * propagate, so the fuzz tests still catch genuine bugs.
 */
export function toPackageError(err: unknown, context: string): unknown {
  if (err instanceof PackageFormatError) return err;
  if (isSystemError(err)) {
    return new PackageFormatError('IO_ERROR', `${context}: ${err.message}`, { cause: err });
  }
  return err;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
