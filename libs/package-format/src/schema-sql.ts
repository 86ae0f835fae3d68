import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import { PackageFormatError, errorMessage } from './errors';

type SqliteDatabase = Database.Database;

/** 'BBLE' — lets tools recognise a package database by its header. */
export const PACKAGE_DB_APPLICATION_ID = 0x42424c45;
export const PACKAGE_DB_USER_VERSION = 1;
export const PACKAGE_DB_PAGE_SIZE = 4096;

type ColumnType = 'TEXT' | 'INTEGER' | 'REAL';
interface ColumnDef {
  readonly type: ColumnType;
  readonly notNull?: boolean;
  readonly primaryKey?: boolean;
  readonly references?: string;
}
interface TableDef {
  readonly columns: Readonly<Record<string, ColumnDef>>;
  /** Table-level composite key; single-column keys are declared on the column. */
  readonly primaryKey?: readonly string[];
}

const id = { type: 'TEXT', notNull: true, primaryKey: true } as const;
const text = { type: 'TEXT' } as const;
const textNN = { type: 'TEXT', notNull: true } as const;
const int = { type: 'INTEGER' } as const;
const intNN = { type: 'INTEGER', notNull: true } as const;
const real = { type: 'REAL' } as const;
const realNN = { type: 'REAL', notNull: true } as const;
const ref = <T extends string>(table: T) =>
  ({ type: 'TEXT', notNull: true, references: table }) as const;
const optRef = <T extends string>(table: T) => ({ type: 'TEXT', references: table }) as const;
const stamps = { created_at: textNN, updated_at: textNN } as const;

/**
 * The package tables of the spec, in dependency order, with exactly the spec's columns.
 * Booleans are INTEGER 0/1; timestamps are ISO 8601 TEXT. Foreign keys are declared (clients
 * rely on them for joins) but not enforced while building: delta packages legitimately point
 * at rows that live in their base package. `verse_text_id` and `target_id` have no FK because
 * they may point outside the package (an audio package carries no verse texts).
 */
export const PACKAGE_TABLE_DEFINITIONS = {
  package_metadata: {
    columns: { key: { type: 'TEXT', notNull: true, primaryKey: true }, value: textNN },
  },
  package_regions: {
    columns: { id, name: textNN, iso_3166_alpha2: text, iso_3166_alpha3: text, ...stamps },
  },
  package_language_entities: {
    columns: {
      id,
      name: textNN,
      iso_639_1: text,
      iso_639_3: text,
      region_id: optRef('package_regions'),
      ...stamps,
    },
  },
  package_bible_versions: {
    columns: { id, name: textNN, structure_notes: text, ...stamps },
  },
  package_books: {
    columns: {
      id,
      name: textNN,
      book_number: intNN,
      bible_version_id: ref('package_bible_versions'),
      testament: text,
      ...stamps,
    },
  },
  package_chapters: {
    columns: {
      id,
      chapter_number: intNN,
      book_id: ref('package_books'),
      total_verses: intNN,
      ...stamps,
    },
  },
  package_verses: {
    columns: { id, chapter_id: ref('package_chapters'), verse_number: intNN, ...stamps },
  },
  package_audio_versions: {
    columns: {
      id,
      language_entity_id: ref('package_language_entities'),
      bible_version_id: ref('package_bible_versions'),
      project_id: text,
      name: textNN,
      created_at: textNN,
      created_by: text,
      updated_at: textNN,
      deleted_at: text,
    },
  },
  package_text_versions: {
    columns: {
      id,
      language_entity_id: ref('package_language_entities'),
      bible_version_id: ref('package_bible_versions'),
      project_id: text,
      name: textNN,
      text_version_source: text,
      created_at: textNN,
      created_by: text,
      updated_at: textNN,
      deleted_at: text,
    },
  },
  package_media_files: {
    columns: {
      id,
      language_entity_id: ref('package_language_entities'),
      audio_version_id: optRef('package_audio_versions'),
      project_id: text,
      media_type: textNN,
      remote_path: text,
      local_path: text,
      file_size: int,
      duration_seconds: real,
      upload_status: text,
      publish_status: text,
      check_status: text,
      version: int,
      start_verse_id: optRef('package_verses'),
      end_verse_id: optRef('package_verses'),
      is_bible_audio: int,
      created_at: textNN,
      created_by: text,
      updated_at: textNN,
      deleted_at: text,
    },
  },
  package_media_files_verses: {
    columns: {
      id,
      media_file_id: ref('package_media_files'),
      verse_id: ref('package_verses'),
      start_time_seconds: realNN,
      duration_seconds: realNN,
      verse_text_id: text,
      created_by: text,
      created_at: textNN,
      updated_at: textNN,
      deleted_at: text,
    },
  },
  package_media_files_targets: {
    columns: {
      id,
      media_file_id: ref('package_media_files'),
      is_bible_audio: int,
      target_type: textNN,
      target_id: textNN,
      created_by: text,
      created_at: textNN,
      updated_at: textNN,
      deleted_at: text,
    },
  },
  package_tags: {
    columns: {
      id,
      key: textNN,
      value: textNN,
      created_at: textNN,
      created_by: text,
      updated_at: textNN,
    },
  },
  package_media_files_tags: {
    columns: {
      id,
      media_file_id: ref('package_media_files'),
      tag_id: ref('package_tags'),
      created_by: text,
      created_at: textNN,
      updated_at: textNN,
    },
  },
  package_verse_texts: {
    columns: {
      id,
      verse_id: ref('package_verses'),
      text_version_id: ref('package_text_versions'),
      verse_text: textNN,
      version: int,
      publish_status: text,
      created_at: textNN,
      created_by: text,
      updated_at: textNN,
      deleted_at: text,
    },
  },
  /** Delta packages only. */
  package_deletions: {
    columns: { table_name: textNN, record_id: textNN },
    primaryKey: ['table_name', 'record_id'],
  },
} as const satisfies Record<string, TableDef>;

type Tables = typeof PACKAGE_TABLE_DEFINITIONS;
export type PackageTableName = keyof Tables;
type Cols<T extends PackageTableName> = Tables[T]['columns'];
type SqlValueFor<C> = C extends { type: 'TEXT' }
  ? string
  : C extends { type: 'REAL' }
    ? number
    : number | bigint | boolean;
type RequiredColumn<T extends PackageTableName> = {
  [K in keyof Cols<T>]: Cols<T>[K] extends { notNull: true } ? K : never;
}[keyof Cols<T>];
type OptionalColumn<T extends PackageTableName> = Exclude<keyof Cols<T>, RequiredColumn<T>>;

/** A row of `T`: NOT NULL columns required, the rest optional (stored as NULL when absent). */
export type PackageRow<T extends PackageTableName> = {
  [K in RequiredColumn<T>]: SqlValueFor<Cols<T>[K]>;
} & { [K in OptionalColumn<T>]?: SqlValueFor<Cols<T>[K]> | null };

/** The 15 tables every package has (spec order). */
export const PACKAGE_TABLE_NAMES = [
  'package_metadata',
  'package_regions',
  'package_language_entities',
  'package_bible_versions',
  'package_books',
  'package_chapters',
  'package_verses',
  'package_audio_versions',
  'package_text_versions',
  'package_media_files',
  'package_media_files_verses',
  'package_media_files_targets',
  'package_tags',
  'package_media_files_tags',
  'package_verse_texts',
] as const satisfies readonly PackageTableName[];

export const DELTA_TABLE_NAMES = [
  'package_deletions',
] as const satisfies readonly PackageTableName[];

/** Column names per table, in DDL order — handy for prepared INSERTs and COPY-style exports. */
export const PACKAGE_TABLE_COLUMNS = Object.fromEntries(
  Object.entries(PACKAGE_TABLE_DEFINITIONS).map(([t, def]) => [t, Object.keys(def.columns)]),
) as unknown as { readonly [T in PackageTableName]: readonly (keyof Cols<T> & string)[] };

export const PACKAGE_INDEXES = [
  // Required by the spec.
  'CREATE INDEX idx_package_verses_chapter ON package_verses (chapter_id, verse_number);',
  'CREATE INDEX idx_package_verse_texts_verse ON package_verse_texts (verse_id);',
  'CREATE INDEX idx_package_media_files_verses_media_file ON package_media_files_verses (media_file_id, start_time_seconds);',
  'CREATE INDEX idx_package_media_files_verses_verse ON package_media_files_verses (verse_id);',
  // Common client lookups (chapter list of a book, tags/targets of a media file).
  'CREATE INDEX idx_package_chapters_book ON package_chapters (book_id, chapter_number);',
  'CREATE INDEX idx_package_media_files_tags_media_file ON package_media_files_tags (media_file_id);',
  'CREATE INDEX idx_package_media_files_targets_media_file ON package_media_files_targets (media_file_id);',
] as const;

function tableDdl(name: string, def: TableDef): string {
  const lines = Object.entries(def.columns).map(([col, c]) => {
    let line = `  ${col} ${c.type}`;
    if (c.notNull) line += ' NOT NULL';
    if (c.primaryKey) line += ' PRIMARY KEY';
    if (c.references) line += ` REFERENCES ${c.references} (id)`;
    return line;
  });
  if (def.primaryKey) lines.push(`  PRIMARY KEY (${def.primaryKey.join(', ')})`);
  return `CREATE TABLE ${name} (\n${lines.join(',\n')}\n);`;
}

/** Header pragmas; page_size must run before the first table is created. */
export const PACKAGE_DATABASE_PRAGMAS_SQL = [
  `PRAGMA page_size = ${PACKAGE_DB_PAGE_SIZE};`,
  `PRAGMA application_id = ${PACKAGE_DB_APPLICATION_ID};`,
  `PRAGMA user_version = ${PACKAGE_DB_USER_VERSION};`,
].join('\n');

/** DDL of the 15 package tables and their indexes. */
export const PACKAGE_SCHEMA_SQL = [
  ...PACKAGE_TABLE_NAMES.map((t) => tableDdl(t, PACKAGE_TABLE_DEFINITIONS[t])),
  ...PACKAGE_INDEXES,
].join('\n\n');

/** Extra DDL for delta packages. */
export const PACKAGE_DELTA_SCHEMA_SQL = tableDdl(
  'package_deletions',
  PACKAGE_TABLE_DEFINITIONS.package_deletions,
);

export interface CreatePackageDatabaseOptions {
  /** Also create `package_deletions`. */
  delta?: boolean;
  /** Replace an existing file instead of failing. */
  overwrite?: boolean;
  /** SQLite page cache in KiB while building (default 64 MiB). */
  cacheSizeKiB?: number;
}

/**
 * Creates an empty package database tuned for one bulk load: no fsync, rollback journal in
 * memory (so a failed transaction can still roll back), exclusive lock. Call
 * `finalizePackageDatabase` when done to get a self-contained file.
 */
export function createPackageDatabase(
  path: string,
  options: CreatePackageDatabaseOptions = {},
): SqliteDatabase {
  if (fs.existsSync(path)) {
    if (!options.overwrite) {
      throw new PackageFormatError('INVALID_INPUT', `${path} already exists`);
    }
    fs.rmSync(path);
  }
  const db = new Database(path);
  try {
    db.exec(PACKAGE_DATABASE_PRAGMAS_SQL);
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('temp_store = MEMORY');
    db.pragma(`cache_size = -${options.cacheSizeKiB ?? 65536}`);
    db.pragma('foreign_keys = OFF');
    db.exec('BEGIN');
    db.exec(PACKAGE_SCHEMA_SQL);
    if (options.delta) db.exec(PACKAGE_DELTA_SCHEMA_SQL);
    db.exec('COMMIT');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export interface PackageMetadataInput {
  packageId: string;
  contentRevision: string;
  syncCursor: string;
  createdAt: string;
  [key: string]: string;
}

/** Writes `package_metadata` (the spec's required keys plus any extra ones); formatVersion is always "1". */
export function writePackageMetadata(db: SqliteDatabase, metadata: PackageMetadataInput): void {
  const stmt = db.prepare('INSERT OR REPLACE INTO package_metadata (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (const [key, value] of Object.entries({ ...metadata, formatVersion: '1' })) {
      stmt.run(key, value);
    }
  })();
}

/**
 * Returns a function inserting one row through a cached prepared statement. Absent optional
 * columns become NULL and booleans become 0/1 (better-sqlite3 does not bind booleans). Wrap bulk
 * loads in `db.transaction` (or use `insertRows`).
 */
export function prepareInsert<T extends PackageTableName>(
  db: SqliteDatabase,
  table: T,
): (row: PackageRow<T>) => void {
  const columns = PACKAGE_TABLE_COLUMNS[table] as readonly string[];
  const stmt = db.prepare(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
  );
  const values: unknown[] = new Array<unknown>(columns.length);
  return (row) => {
    const r = row as Record<string, unknown>;
    for (let i = 0; i < columns.length; i++) {
      const v = r[columns[i]];
      values[i] = v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }
    stmt.run(values);
  };
}

/** Inserts rows in one transaction; returns the count. */
export function insertRows<T extends PackageTableName>(
  db: SqliteDatabase,
  table: T,
  rows: Iterable<PackageRow<T>>,
): number {
  const insert = prepareInsert(db, table);
  let n = 0;
  db.transaction(() => {
    for (const row of rows) {
      insert(row);
      n++;
    }
  })();
  return n;
}

export interface FinalizePackageDatabaseOptions {
  /** Rebuild the file compactly (default true). */
  vacuum?: boolean;
  /** Store planner statistics (sqlite_stat1) for clients' queries (default false). */
  analyze?: boolean;
  /**
   * Fail on dangling foreign keys. Defaults to true for full packages and false for delta
   * packages (whose rows may reference the base package).
   */
  checkForeignKeys?: boolean;
}

/**
 * Turns the build-time database into the shipped file and closes it: optional FK check,
 * ANALYZE and VACUUM, rollback-journal mode DELETE (never WAL, so there are no side files),
 * and an integrity check.
 */
export function finalizePackageDatabase(
  db: SqliteDatabase,
  options: FinalizePackageDatabaseOptions = {},
): void {
  try {
    const isDelta =
      db
        .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'package_deletions'")
        .get() !== undefined;
    if (options.checkForeignKeys ?? !isDelta) {
      const violations = db.prepare('PRAGMA foreign_key_check').all() as {
        table: string;
        rowid: number;
        parent: string;
      }[];
      if (violations.length > 0) {
        const sample = violations
          .slice(0, 5)
          .map((v) => `${v.table} rowid ${v.rowid} -> ${v.parent}`)
          .join('; ');
        throw new PackageFormatError(
          'INVALID_INPUT',
          `${violations.length} dangling foreign key(s): ${sample}`,
        );
      }
    }
    if (options.analyze) db.exec('ANALYZE');
    db.pragma('journal_mode = DELETE');
    if (options.vacuum ?? true) db.exec('VACUUM');
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') {
      throw new PackageFormatError('DATABASE_INTEGRITY', `integrity_check: ${String(check)}`);
    }
  } catch (err) {
    if (err instanceof PackageFormatError) throw err;
    throw new PackageFormatError('INVALID_INPUT', `finalizing database: ${errorMessage(err)}`, {
      cause: err,
    });
  } finally {
    db.close();
  }
}
