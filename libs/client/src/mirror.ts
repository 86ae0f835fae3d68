// How a server row (sync changes, push results: server table and column names) becomes a row of
// the package database the client uses as its store, following the same rules as a full
// package build (services/package-builder/src/build/package-database.ts): only live, published
// rows of the package's scope; timestamps as ISO 8601 UTC with milliseconds; booleans as 0/1.
import { PACKAGE_TABLE_COLUMNS, type PackageTableName } from '@bible/package-format';

export interface Scope {
  textVersionId?: string;
  audioVersionId?: string;
}

/** Columns the package fills itself, not from the server row (kept from the local row). */
const LOCAL_COLUMNS = new Set(['local_path', 'verse_text_id']);

/** `verse_texts` → `package_verse_texts`; undefined for server tables packages do not carry. */
export function packageTable(serverTable: string): PackageTableName | undefined {
  const name = `package_${serverTable}`;
  return name in PACKAGE_TABLE_COLUMNS &&
    name !== 'package_metadata' &&
    name !== 'package_deletions'
    ? (name as PackageTableName)
    : undefined;
}

/** Whether a full build at the row's revision would include it. */
function included(serverTable: string, row: Record<string, unknown>, scope: Scope): boolean {
  if (row.deleted_at != null) return false;
  switch (serverTable) {
    case 'verse_texts':
      return row.text_version_id === scope.textVersionId && row.publish_status === 'published';
    case 'media_files':
      return (
        row.audio_version_id === scope.audioVersionId &&
        row.publish_status === 'published' &&
        row.upload_status === 'completed'
      );
    default:
      return true;
  }
}

function packageValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  // Postgres timestamps arrive as `2026-12-02T02:35:55.123456+00:00`; packages store ms + Z.
  if (
    typeof value === 'string' &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$/.test(value)
  )
    return new Date(value).toISOString();
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value ?? null;
}

/**
 * The package row for a server row, or null when the package would not hold it (deleted,
 * unpublished, out of scope). `local` is the row the store holds now (for package-only columns).
 */
export function toPackageRow(
  serverTable: string,
  row: Record<string, unknown> | null,
  scope: Scope,
  local?: Record<string, unknown>,
): Record<string, unknown> | null {
  const table = packageTable(serverTable);
  if (!table || !row || !included(serverTable, row, scope)) return null;
  const out: Record<string, unknown> = {};
  for (const column of PACKAGE_TABLE_COLUMNS[table]) {
    out[column] =
      LOCAL_COLUMNS.has(column) || !(column in row)
        ? (local?.[column] ?? null)
        : packageValue(row[column]);
  }
  return out;
}
