import Database from 'better-sqlite3';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkPackageDatabase } from './database';
import { PackageFormatError } from './errors';
import {
  PACKAGE_SCHEMA_SQL,
  PACKAGE_TABLE_COLUMNS,
  createPackageDatabase,
  finalizePackageDatabase,
  insertRows,
  prepareInsert,
  writePackageMetadata,
} from './schema-sql';
import { makeTempDir } from './test-support/helpers';

// Transcribed independently from the spec's "Database" section.
const SPEC_TABLES: Record<string, string[]> = {
  package_metadata: ['key', 'value'],
  package_regions: ['id', 'name', 'iso_3166_alpha2', 'iso_3166_alpha3', 'created_at', 'updated_at'],
  package_language_entities: [
    'id',
    'name',
    'iso_639_1',
    'iso_639_3',
    'region_id',
    'created_at',
    'updated_at',
  ],
  package_bible_versions: ['id', 'name', 'structure_notes', 'created_at', 'updated_at'],
  package_books: [
    'id',
    'name',
    'book_number',
    'bible_version_id',
    'testament',
    'created_at',
    'updated_at',
  ],
  package_chapters: ['id', 'chapter_number', 'book_id', 'total_verses', 'created_at', 'updated_at'],
  package_verses: ['id', 'chapter_id', 'verse_number', 'created_at', 'updated_at'],
  package_audio_versions: [
    'id',
    'language_entity_id',
    'bible_version_id',
    'project_id',
    'name',
    'created_at',
    'created_by',
    'updated_at',
    'deleted_at',
  ],
  package_text_versions: [
    'id',
    'language_entity_id',
    'bible_version_id',
    'project_id',
    'name',
    'text_version_source',
    'created_at',
    'created_by',
    'updated_at',
    'deleted_at',
  ],
  package_media_files: [
    'id',
    'language_entity_id',
    'audio_version_id',
    'project_id',
    'media_type',
    'remote_path',
    'local_path',
    'file_size',
    'duration_seconds',
    'upload_status',
    'publish_status',
    'check_status',
    'version',
    'start_verse_id',
    'end_verse_id',
    'is_bible_audio',
    'created_at',
    'created_by',
    'updated_at',
    'deleted_at',
  ],
  package_media_files_verses: [
    'id',
    'media_file_id',
    'verse_id',
    'start_time_seconds',
    'duration_seconds',
    'verse_text_id',
    'created_by',
    'created_at',
    'updated_at',
    'deleted_at',
  ],
  package_media_files_targets: [
    'id',
    'media_file_id',
    'is_bible_audio',
    'target_type',
    'target_id',
    'created_by',
    'created_at',
    'updated_at',
    'deleted_at',
  ],
  package_tags: ['id', 'key', 'value', 'created_at', 'created_by', 'updated_at'],
  package_media_files_tags: [
    'id',
    'media_file_id',
    'tag_id',
    'created_by',
    'created_at',
    'updated_at',
  ],
  package_verse_texts: [
    'id',
    'verse_id',
    'text_version_id',
    'verse_text',
    'version',
    'publish_status',
    'created_at',
    'created_by',
    'updated_at',
    'deleted_at',
  ],
};

void describe('package database schema', () => {
  const tmp = makeTempDir();
  after(() => tmp.cleanup());
  const t = '2024-01-01T00:00:00Z';

  void it('creates exactly the spec tables, columns, keys, pragmas and indexes', () => {
    const file = path.join(tmp.dir, 'schema.sqlite');
    const db = createPackageDatabase(file);
    writePackageMetadata(db, {
      packageId: 'p',
      contentRevision: 'r',
      syncCursor: 'c',
      createdAt: t,
    });
    finalizePackageDatabase(db);
    const ro = new Database(file, { readonly: true });
    try {
      const tables = ro
        .prepare("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name")
        .pluck()
        .all() as string[];
      assert.deepEqual(tables, Object.keys(SPEC_TABLES).sort());
      for (const [table, cols] of Object.entries(SPEC_TABLES)) {
        const info = ro.prepare(`PRAGMA table_info(${table})`).all() as {
          name: string;
          pk: number;
          type: string;
        }[];
        assert.deepEqual(
          info.map((c) => c.name),
          cols,
          table,
        );
        const pk = info.filter((c) => c.pk > 0).map((c) => c.name);
        assert.deepEqual(pk, [table === 'package_metadata' ? 'key' : 'id'], `${table} primary key`);
        assert.deepEqual(
          [...PACKAGE_TABLE_COLUMNS[table as keyof typeof PACKAGE_TABLE_COLUMNS]],
          cols,
        );
      }
      const mfv = ro.prepare('PRAGMA table_info(package_media_files_verses)').all() as {
        name: string;
        type: string;
      }[];
      assert.equal(mfv.find((c) => c.name === 'start_time_seconds')?.type, 'REAL');
      assert.equal(mfv.find((c) => c.name === 'duration_seconds')?.type, 'REAL');
      const fks = ro.prepare('PRAGMA foreign_key_list(package_verse_texts)').all() as {
        table: string;
        from: string;
      }[];
      assert.deepEqual(fks.map((f) => `${f.from}->${f.table}`).sort(), [
        'text_version_id->package_text_versions',
        'verse_id->package_verses',
      ]);
      const indexCols = (name: string) =>
        (ro.prepare(`PRAGMA index_info(${name})`).all() as { name: string }[]).map((c) => c.name);
      assert.deepEqual(indexCols('idx_package_verses_chapter'), ['chapter_id', 'verse_number']);
      assert.deepEqual(indexCols('idx_package_verse_texts_verse'), ['verse_id']);
      assert.deepEqual(indexCols('idx_package_media_files_verses_media_file'), [
        'media_file_id',
        'start_time_seconds',
      ]);
      assert.deepEqual(indexCols('idx_package_media_files_verses_verse'), ['verse_id']);
      assert.equal(ro.pragma('application_id', { simple: true }), 0x42424c45);
      assert.equal(ro.pragma('user_version', { simple: true }), 1);
      assert.equal(ro.pragma('page_size', { simple: true }), 4096);
      assert.equal(ro.pragma('journal_mode', { simple: true }), 'delete');
    } finally {
      ro.close();
    }
    assert.deepEqual(
      fs.readdirSync(tmp.dir).filter((f) => f.startsWith('schema')),
      ['schema.sqlite'],
      'no -wal/-journal side files',
    );
    checkPackageDatabase(file, {
      expect: { packageId: 'p', contentRevision: 'r', syncCursor: 'c' },
    });
    assert.match(
      PACKAGE_SCHEMA_SQL,
      /CREATE TABLE package_verses \(\n {2}id TEXT NOT NULL PRIMARY KEY,/,
    );
  });

  void it('typed insert helpers bind booleans and absent optionals; finalize checks foreign keys', () => {
    const file = path.join(tmp.dir, 'fk.sqlite');
    const db = createPackageDatabase(file);
    insertRows(db, 'package_bible_versions', [
      { id: 'bv', name: 'B', created_at: t, updated_at: t },
    ]);
    const insertBook = prepareInsert(db, 'package_books');
    insertBook({
      id: 'john',
      name: 'John',
      book_number: 43,
      bible_version_id: 'bv',
      created_at: t,
      updated_at: t,
    });
    insertRows(db, 'package_media_files_targets', [
      {
        id: 'x',
        media_file_id: 'missing',
        is_bible_audio: true,
        target_type: 'c',
        target_id: 'y',
        created_at: t,
        updated_at: t,
      },
    ]);
    assert.deepEqual(
      db.prepare('SELECT is_bible_audio, created_by FROM package_media_files_targets').get(),
      { is_bible_audio: 1, created_by: null },
    );
    assert.throws(
      () => finalizePackageDatabase(db),
      (err: unknown) =>
        err instanceof PackageFormatError &&
        err.code === 'INVALID_INPUT' &&
        /dangling/.test(err.message),
    );
    assert.equal(db.open, false, 'closed even on failure');
  });

  void it('refuses to overwrite unless asked; delta databases get package_deletions and skip the FK check', () => {
    const file = path.join(tmp.dir, 'delta.sqlite');
    fs.writeFileSync(file, 'x');
    assert.throws(() => createPackageDatabase(file), /already exists/);
    const db = createPackageDatabase(file, { overwrite: true, delta: true });
    writePackageMetadata(db, {
      packageId: 'p',
      contentRevision: 'r',
      syncCursor: 'c',
      createdAt: t,
    });
    insertRows(db, 'package_deletions', [{ table_name: 'package_verse_texts', record_id: 'gone' }]);
    insertRows(db, 'package_verses', [
      {
        id: 'john-1-1',
        chapter_id: 'in-base-package',
        verse_number: 1,
        created_at: t,
        updated_at: t,
      },
    ]);
    finalizePackageDatabase(db);
    checkPackageDatabase(file, { delta: true });
  });
});
