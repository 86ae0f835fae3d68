import {
  type PackageRow,
  type PackageTableName,
  createPackageDatabase,
  finalizePackageDatabase,
  prepareInsert,
  writePackageMetadata,
} from '@bible/package-format';
import type { ContentSnapshot, SnapshotMediaFile } from './content-snapshot';

/** ISO 8601 UTC text, as the package format stores timestamps. */
const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const stamps = (t: string) =>
  `${iso(`${t}.created_at`)} AS created_at, ${iso(`${t}.updated_at`)} AS updated_at`;

export interface DatabasePlan {
  path: string;
  languageEntityId: string;
  bibleVersionId: string;
  bookIds: string[];
  textVersionId?: string;
  audioVersionId?: string;
  mediaFiles: SnapshotMediaFile[];
  /** fileName inside the package for each media file id. */
  fileNames: Map<string, string>;
  metadata: { packageId: string; contentRevision: string; syncCursor: string; createdAt: string };
}

export interface DatabaseResult {
  rows: number;
  /** Time spent inside SQLite inserts (the rest is Postgres reads). */
  writeSeconds: number;
  verseTexts: number;
  timings: number;
}

/**
 * Writes the package SQLite database from the snapshot: a few set-based queries, each streamed
 * into a prepared INSERT inside one transaction per table. Only published, non-deleted rows.
 */
export async function writePackageDatabase(
  snapshot: ContentSnapshot,
  plan: DatabasePlan,
): Promise<DatabaseResult> {
  const db = createPackageDatabase(plan.path, { overwrite: true });
  let rows = 0;
  let writeNs = 0n;
  let verseTexts = 0;
  let timings = 0;
  try {
    const load = async <T extends PackageTableName>(
      table: T,
      sql: string,
      args: unknown[],
    ): Promise<number> => {
      const insert = prepareInsert(db, table);
      const tx = db.transaction((batch: PackageRow<T>[]) => {
        for (const row of batch) insert(row);
      });
      let n = 0;
      for await (const batch of snapshot.cursor<PackageRow<T>>(sql, args)) {
        const started = process.hrtime.bigint();
        tx(batch);
        writeNs += process.hrtime.bigint() - started;
        n += batch.length;
      }
      rows += n;
      return n;
    };

    writePackageMetadata(db, plan.metadata);
    const books = plan.bookIds;
    await load(
      'package_regions',
      `SELECT r.id, r.name, r.iso_3166_alpha2, r.iso_3166_alpha3, ${stamps('r')}
         FROM regions r JOIN language_entities l ON l.region_id = r.id WHERE l.id = $1`,
      [plan.languageEntityId],
    );
    await load(
      'package_language_entities',
      `SELECT l.id, l.name, l.iso_639_1, l.iso_639_3, l.region_id, ${stamps('l')} FROM language_entities l WHERE l.id = $1`,
      [plan.languageEntityId],
    );
    await load(
      'package_bible_versions',
      `SELECT b.id, b.name, b.structure_notes, ${stamps('b')} FROM bible_versions b WHERE b.id = $1`,
      [plan.bibleVersionId],
    );
    await load(
      'package_books',
      `SELECT b.id, b.name, b.book_number, b.bible_version_id, b.testament, ${stamps('b')}
         FROM books b WHERE b.id = ANY($1::text[]) ORDER BY b.book_number`,
      [books],
    );
    await load(
      'package_chapters',
      `SELECT c.id, c.chapter_number, c.book_id, c.total_verses, ${stamps('c')}
         FROM chapters c JOIN books b ON b.id = c.book_id
        WHERE c.book_id = ANY($1::text[]) AND c.deleted_at IS NULL ORDER BY b.book_number, c.chapter_number`,
      [books],
    );
    await load(
      'package_verses',
      `SELECT v.id, v.chapter_id, v.verse_number, ${stamps('v')}
         FROM verses v JOIN chapters c ON c.id = v.chapter_id
        WHERE c.book_id = ANY($1::text[]) AND v.deleted_at IS NULL`,
      [books],
    );

    if (plan.textVersionId) {
      await load(
        'package_text_versions',
        `SELECT t.id, t.language_entity_id, t.bible_version_id, t.project_id, t.name, t.text_version_source,
                ${stamps('t')}, t.created_by, NULL AS deleted_at
           FROM text_versions t WHERE t.id = $1`,
        [plan.textVersionId],
      );
      verseTexts = await load(
        'package_verse_texts',
        `SELECT vt.id, vt.verse_id, vt.text_version_id, vt.verse_text, vt.version, vt.publish_status,
                ${stamps('vt')}, vt.created_by, NULL AS deleted_at
           FROM verse_texts vt JOIN verses v ON v.id = vt.verse_id JOIN chapters c ON c.id = v.chapter_id
          WHERE vt.text_version_id = $1 AND c.book_id = ANY($2::text[])
            AND vt.publish_status = 'published' AND vt.deleted_at IS NULL`,
        [plan.textVersionId, books],
      );
    }

    if (plan.audioVersionId && plan.mediaFiles.length > 0) {
      const ids = plan.mediaFiles.map((m) => m.id);
      const localPaths = plan.mediaFiles.map((m) => plan.fileNames.get(m.id) ?? null);
      await load(
        'package_audio_versions',
        `SELECT a.id, a.language_entity_id, a.bible_version_id, a.project_id, a.name, ${stamps('a')},
                a.created_by, NULL AS deleted_at
           FROM audio_versions a WHERE a.id = $1`,
        [plan.audioVersionId],
      );
      await load(
        'package_media_files',
        `SELECT m.id, m.language_entity_id, m.audio_version_id, m.project_id, m.media_type, m.remote_path,
                f.local_path, m.file_size, m.duration_seconds, m.upload_status, m.publish_status, m.check_status,
                m.version, m.start_verse_id, m.end_verse_id, m.is_bible_audio::int AS is_bible_audio,
                ${stamps('m')}, m.created_by, NULL AS deleted_at
           FROM unnest($1::text[], $2::text[]) AS f(id, local_path) JOIN media_files m ON m.id = f.id`,
        [ids, localPaths],
      );
      const withText = plan.textVersionId ? 'vt.id' : 'NULL';
      timings = await load(
        'package_media_files_verses',
        `SELECT t.id, t.media_file_id, t.verse_id, t.start_time_seconds, t.duration_seconds,
                ${withText} AS verse_text_id, t.created_by, ${stamps('t')}, NULL AS deleted_at
           FROM media_files_verses t
           ${plan.textVersionId ? `LEFT JOIN verse_texts vt ON vt.verse_id = t.verse_id AND vt.text_version_id = $2 AND vt.deleted_at IS NULL AND vt.publish_status = 'published'` : ''}
          WHERE t.media_file_id = ANY($1::text[]) AND t.deleted_at IS NULL`,
        plan.textVersionId ? [ids, plan.textVersionId] : [ids],
      );
      await load(
        'package_media_files_targets',
        `SELECT t.id, t.media_file_id, t.is_bible_audio::int AS is_bible_audio, t.target_type, t.target_id,
                t.created_by, ${stamps('t')}, NULL AS deleted_at
           FROM media_files_targets t WHERE t.media_file_id = ANY($1::text[]) AND t.deleted_at IS NULL`,
        [ids],
      );
      await load(
        'package_tags',
        `SELECT DISTINCT g.id, g.key, g.value, ${stamps('g')}, g.created_by
           FROM tags g JOIN media_files_tags mt ON mt.tag_id = g.id
          WHERE mt.media_file_id = ANY($1::text[]) AND mt.deleted_at IS NULL AND g.deleted_at IS NULL`,
        [ids],
      );
      await load(
        'package_media_files_tags',
        `SELECT mt.id, mt.media_file_id, mt.tag_id, mt.created_by, ${stamps('mt')}
           FROM media_files_tags mt JOIN tags g ON g.id = mt.tag_id
          WHERE mt.media_file_id = ANY($1::text[]) AND mt.deleted_at IS NULL AND g.deleted_at IS NULL`,
        [ids],
      );
    }
    finalizePackageDatabase(db, { vacuum: false });
  } catch (error) {
    if (db.open) db.close();
    throw error;
  }
  return { rows, writeSeconds: Number(writeNs) / 1e9, verseTexts, timings };
}
