import { createHash } from 'node:crypto';
import { AppError, ErrorCode } from '@bible/common';

/**
 * Opaque list cursors. A cursor carries either the sort key of the last row (keyset pagination,
 * stable under inserts) or an offset (ranked results: fuzzy and full-text search), plus a short
 * fingerprint of the filters it was issued for, so a cursor cannot be replayed against another
 * query (that would silently skip or repeat rows).
 */
export type CursorKey = (string | number)[];

export interface PageCursor {
  /** Sort key of the last row of the previous page. */
  k?: CursorKey;
  /** Rows to skip (ranked lists). */
  o?: number;
  f: string;
}

export const MAX_OFFSET = 10_000;

/** Fingerprint of a query's filters (everything but `cursor` and `limit`). */
export function queryFingerprint(filters: Record<string, unknown>): string {
  const canonical = Object.keys(filters)
    .filter((k) => k !== 'cursor' && k !== 'limit' && filters[k] !== undefined)
    .sort()
    .map((k) => [k, filters[k]]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 10);
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** The cursor, or null when it is malformed or was issued for different filters. */
export function decodeCursor(text: string, fingerprint: string): PageCursor | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { k, o, f } = value as Record<string, unknown>;
  if (f !== fingerprint) return null;
  const keyOk =
    k === undefined ||
    (Array.isArray(k) &&
      k.length > 0 &&
      k.length <= 4 &&
      k.every((p) => typeof p === 'string' || (typeof p === 'number' && Number.isFinite(p))));
  const offsetOk =
    o === undefined || (Number.isInteger(o) && (o as number) > 0 && (o as number) <= MAX_OFFSET);
  if (!keyOk || !offsetOk || (k === undefined) === (o === undefined)) return null;
  return {
    ...(k !== undefined && { k: k as CursorKey }),
    ...(o !== undefined && { o: o as number }),
    f,
  };
}

/** decodeCursor for a request: absent → undefined, invalid → 400 naming query.cursor. */
export function cursorFromQuery(
  text: string | undefined,
  filters: Record<string, unknown>,
): PageCursor | undefined {
  if (text === undefined) return undefined;
  const cursor = decodeCursor(text, queryFingerprint(filters));
  if (!cursor) {
    throw new AppError(400, ErrorCode.ValidationFailed, 'Invalid cursor', [
      {
        field: 'query.cursor',
        message: 'is not a cursor this API issued for the same filters (start again without it)',
      },
    ]);
  }
  return cursor;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
}

/**
 * Builds a page from `limit + 1` fetched rows: the extra row only signals that another page
 * exists. Keyset lists pass `keyOf`; ranked lists pass the current offset.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  filters: Record<string, unknown>,
  view: (row: R) => T,
  next: { keyOf: (row: R) => CursorKey } | { offset: number },
  total?: number,
): Page<T> {
  const page = rows.slice(0, limit);
  const more = rows.length > limit && page.length > 0;
  let nextCursor: string | null = null;
  if (more) {
    const f = queryFingerprint(filters);
    if ('keyOf' in next) nextCursor = encodeCursor({ k: next.keyOf(page[page.length - 1]), f });
    else if (next.offset + limit <= MAX_OFFSET)
      nextCursor = encodeCursor({ o: next.offset + limit, f });
  }
  return { items: page.map(view), nextCursor, ...(total !== undefined && { total }) };
}
