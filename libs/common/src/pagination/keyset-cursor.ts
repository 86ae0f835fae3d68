import { AppError, ErrorCode } from '../errors/error-codes';

/**
 * Keyset pagination of the public API's lists ordered by (created_at DESC, id DESC): the cursor
 * is part of the HTTP contract (opaque to clients, the same for every such list).
 */
export interface KeysetPosition {
  createdAt: string;
  id: string;
}

export function encodeCatalogCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

export function decodeCatalogCursor(cursor: string): KeysetPosition | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      Number.isFinite(Date.parse(value[0])) &&
      /^[0-9a-f-]{36}$/.test(value[1])
    ) {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    /* fall through */
  }
  return null;
}

/** The `cursor` query parameter as a position (none without one); 400 for a foreign cursor. */
export function parseCursorParam(cursor: string | undefined): KeysetPosition | undefined {
  if (!cursor) return undefined;
  const after = decodeCatalogCursor(cursor);
  if (!after) {
    throw new AppError(400, ErrorCode.ValidationFailed, 'Invalid cursor', [
      { field: 'query.cursor', message: 'is not a cursor from this API' },
    ]);
  }
  return after;
}

/**
 * One page from the `limit + 1` rows a keyset query fetched: the extra row only says that a
 * next page exists, whose cursor is the position of the page's last row.
 */
export function keysetPage<Row, Item>(
  rows: Row[],
  limit: number,
  view: (row: Row) => Item,
  position: (row: Row) => KeysetPosition,
): { items: Item[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  let nextCursor: string | null = null;
  if (rows.length > limit && last) {
    const { createdAt, id } = position(last);
    nextCursor = encodeCatalogCursor(createdAt, id);
  }
  return { items: page.map(view), nextCursor };
}
