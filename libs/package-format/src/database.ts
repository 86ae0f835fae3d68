import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import { PackageFormatError, errorMessage } from './errors';
import {
  DELTA_TABLE_NAMES,
  PACKAGE_DB_APPLICATION_ID,
  PACKAGE_DB_PAGE_SIZE,
  PACKAGE_DB_USER_VERSION,
  PACKAGE_TABLE_COLUMNS,
  PACKAGE_TABLE_NAMES,
} from './schema-sql';

const SQLITE_MAGIC = 'SQLite format 3\0';
export const REQUIRED_METADATA_KEYS = [
  'packageId',
  'formatVersion',
  'contentRevision',
  'syncCursor',
  'createdAt',
] as const;

export interface DatabaseCheckOptions {
  /** Run `PRAGMA integrity_check` (default true). */
  integrity?: boolean;
  /** Require `package_deletions`. */
  delta?: boolean;
  /** When given, package_metadata must agree with it. */
  expect?: { packageId: string; contentRevision: string; syncCursor: string };
}

function fail(
  code: 'DATABASE_UNREADABLE' | 'DATABASE_INTEGRITY' | 'DATABASE_SCHEMA',
  msg: string,
): never {
  throw new PackageFormatError(code, msg);
}

/** Reads the 100-byte SQLite header ourselves: WAL mode must be rejected before SQLite looks for side files. */
function checkSqliteHeader(path: string): void {
  const head = Buffer.alloc(100);
  const fd = fs.openSync(path, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n < 100 || head.toString('latin1', 0, 16) !== SQLITE_MAGIC) {
    fail('DATABASE_UNREADABLE', 'database section is not an SQLite 3 file');
  }
  if (head[18] !== 1 || head[19] !== 1) {
    fail('DATABASE_SCHEMA', 'database is in WAL mode; packages must use a rollback journal');
  }
}

/**
 * Checks a package database file in the order: opens at all (DATABASE_UNREADABLE), integrity
 * (DATABASE_INTEGRITY), then identity and shape (DATABASE_SCHEMA: application_id, user_version,
 * page size, tables and columns of the spec, package_metadata keys).
 */
export function checkPackageDatabase(path: string, options: DatabaseCheckOptions = {}): void {
  checkSqliteHeader(path);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    // SQLite reads lazily; touching the schema makes a garbage file fail here, not later.
    db.pragma('schema_version');
  } catch (err) {
    fail('DATABASE_UNREADABLE', `SQLite cannot open the database: ${errorMessage(err)}`);
  }
  try {
    if (options.integrity ?? true) {
      let result: unknown;
      try {
        result = db.pragma('integrity_check', { simple: true });
      } catch (err) {
        fail('DATABASE_INTEGRITY', `integrity_check failed: ${errorMessage(err)}`);
      }
      if (result !== 'ok') fail('DATABASE_INTEGRITY', `integrity_check: ${String(result)}`);
    }
    try {
      checkShape(db, options);
    } catch (err) {
      if (err instanceof PackageFormatError) throw err;
      fail('DATABASE_INTEGRITY', `reading the schema failed: ${errorMessage(err)}`);
    }
  } finally {
    db.close();
  }
}

function checkShape(db: Database.Database, options: DatabaseCheckOptions): void {
  const appId = Number(db.pragma('application_id', { simple: true }));
  if (appId !== PACKAGE_DB_APPLICATION_ID) {
    fail(
      'DATABASE_SCHEMA',
      `application_id is 0x${(appId >>> 0).toString(16)}, expected 0x42424c45`,
    );
  }
  const userVersion = Number(db.pragma('user_version', { simple: true }));
  if (userVersion !== PACKAGE_DB_USER_VERSION) {
    fail('DATABASE_SCHEMA', `user_version is ${userVersion}, expected ${PACKAGE_DB_USER_VERSION}`);
  }
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  if (pageSize !== PACKAGE_DB_PAGE_SIZE) {
    fail('DATABASE_SCHEMA', `page_size is ${pageSize}, expected ${PACKAGE_DB_PAGE_SIZE}`);
  }
  const tables = [...PACKAGE_TABLE_NAMES, ...(options.delta ? DELTA_TABLE_NAMES : [])] as const;
  const columnsStmt = db.prepare('SELECT name FROM pragma_table_info(?)').pluck();
  for (const table of tables) {
    const present = new Set(columnsStmt.all(table) as string[]);
    if (present.size === 0) fail('DATABASE_SCHEMA', `table ${table} is missing`);
    const missing = PACKAGE_TABLE_COLUMNS[table].filter((c) => !present.has(c));
    if (missing.length > 0) {
      fail('DATABASE_SCHEMA', `table ${table} lacks column(s) ${missing.join(', ')}`);
    }
  }
  const rows = db.prepare('SELECT key, value FROM package_metadata').all() as {
    key: string;
    value: unknown;
  }[];
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  for (const key of REQUIRED_METADATA_KEYS) {
    if (typeof meta.get(key) !== 'string')
      fail('DATABASE_SCHEMA', `package_metadata lacks "${key}"`);
  }
  if (options.expect) {
    for (const key of ['packageId', 'contentRevision', 'syncCursor'] as const) {
      if (meta.get(key) !== options.expect[key]) {
        fail('DATABASE_SCHEMA', `package_metadata ${key} differs from the manifest`);
      }
    }
  }
}
