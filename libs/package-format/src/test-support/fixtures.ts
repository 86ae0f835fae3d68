// Deterministic sample content for tests, vectors and the benchmark. Not part of the public API.
import * as path from 'node:path';
import {
  createPackageDatabase,
  finalizePackageDatabase,
  insertRows,
  writePackageMetadata,
  type PackageRow,
} from '../schema-sql';
import { PackageType, packageTypeHasAudio, packageTypeHasText } from '../header';
import type { AudioFileEntryInput, ManifestInput } from '../manifest';

export const FIXED_TIME = '2024-01-01T00:00:00.000Z';

export interface SampleDatabaseOptions {
  packageId: string;
  packageType: PackageType;
  contentRevision?: string;
  syncCursor?: string;
  delta?: boolean;
  /** Chapters of John to include (default 3). */
  chapters?: number;
  versesPerChapter?: number;
  /** Extra verse-text rows to pad the database (benchmark). */
  extraVerseTextBytes?: number;
}

/** Builds a small but complete package database for the given package type. */
export function buildSampleDatabase(file: string, o: SampleDatabaseOptions): string {
  const db = createPackageDatabase(file, { delta: o.delta, overwrite: true });
  const t = FIXED_TIME;
  const stamp = { created_at: t, updated_at: t };
  const chapters = o.chapters ?? 3;
  const versesPer = o.versesPerChapter ?? 3;
  writePackageMetadata(db, {
    packageId: o.packageId,
    contentRevision: o.contentRevision ?? 'rev-1',
    syncCursor: o.syncCursor ?? 'cursor-1',
    createdAt: t,
  });
  insertRows(db, 'package_regions', [
    { id: 'region-ke', name: 'Kenya', iso_3166_alpha2: 'KE', iso_3166_alpha3: 'KEN', ...stamp },
  ]);
  insertRows(db, 'package_language_entities', [
    { id: 'lang-swh', name: 'Swahili', iso_639_3: 'swh', region_id: 'region-ke', ...stamp },
  ]);
  insertRows(db, 'package_bible_versions', [{ id: 'bv-1', name: 'Protestant', ...stamp }]);
  insertRows(db, 'package_books', [
    {
      id: 'john',
      name: 'John',
      book_number: 43,
      bible_version_id: 'bv-1',
      testament: 'NT',
      ...stamp,
    },
  ]);
  const chapterRows: PackageRow<'package_chapters'>[] = [];
  const verseRows: PackageRow<'package_verses'>[] = [];
  for (let c = 1; c <= chapters; c++) {
    chapterRows.push({
      id: `john-${c}`,
      chapter_number: c,
      book_id: 'john',
      total_verses: versesPer,
      ...stamp,
    });
    for (let v = 1; v <= versesPer; v++) {
      verseRows.push({ id: `john-${c}-${v}`, chapter_id: `john-${c}`, verse_number: v, ...stamp });
    }
  }
  insertRows(db, 'package_chapters', chapterRows);
  insertRows(db, 'package_verses', verseRows);

  if (packageTypeHasAudio(o.packageType)) {
    insertRows(db, 'package_audio_versions', [
      {
        id: 'av-1',
        language_entity_id: 'lang-swh',
        bible_version_id: 'bv-1',
        name: 'Swahili NT audio',
        created_at: t,
        updated_at: t,
      },
    ]);
    insertRows(
      db,
      'package_media_files',
      chapterRows.map((c) => ({
        id: `mf-${c.id}`,
        language_entity_id: 'lang-swh',
        audio_version_id: 'av-1',
        media_type: 'audio',
        remote_path: `audio/${c.id}.mp3`,
        file_size: 0,
        duration_seconds: 60,
        publish_status: 'published',
        version: 1,
        start_verse_id: `${c.id}-1`,
        end_verse_id: `${c.id}-${versesPer}`,
        is_bible_audio: true,
        created_at: t,
        updated_at: t,
      })),
    );
    insertRows(
      db,
      'package_media_files_verses',
      verseRows.map((v, i) => ({
        id: `mfv-${v.id}`,
        media_file_id: `mf-${v.chapter_id}`,
        verse_id: v.id,
        start_time_seconds: (i % versesPer) * 10,
        duration_seconds: 10,
        created_at: t,
        updated_at: t,
      })),
    );
    insertRows(db, 'package_tags', [
      { id: 'tag-1', key: 'narrator', value: 'A', created_at: t, updated_at: t },
    ]);
    insertRows(db, 'package_media_files_tags', [
      { id: 'mft-1', media_file_id: 'mf-john-1', tag_id: 'tag-1', created_at: t, updated_at: t },
    ]);
    insertRows(db, 'package_media_files_targets', [
      {
        id: 'mftg-1',
        media_file_id: 'mf-john-1',
        is_bible_audio: true,
        target_type: 'chapter',
        target_id: 'john-1',
        created_at: t,
        updated_at: t,
      },
    ]);
  }
  if (packageTypeHasText(o.packageType)) {
    insertRows(db, 'package_text_versions', [
      {
        id: 'tv-1',
        language_entity_id: 'lang-swh',
        bible_version_id: 'bv-1',
        name: 'Swahili text',
        created_at: t,
        updated_at: t,
      },
    ]);
    const pad = o.extraVerseTextBytes
      ? 'x'.repeat(Math.ceil(o.extraVerseTextBytes / verseRows.length))
      : '';
    insertRows(
      db,
      'package_verse_texts',
      verseRows.map((v) => ({
        id: `vt-${v.id}`,
        verse_id: v.id,
        text_version_id: 'tv-1',
        verse_text: `Text of ${v.id}.${pad}`,
        version: 1,
        publish_status: 'published',
        created_at: t,
        updated_at: t,
      })),
    );
  }
  if (o.delta)
    insertRows(db, 'package_deletions', [
      { table_name: 'package_verse_texts', record_id: 'vt-old' },
    ]);
  finalizePackageDatabase(db);
  return file;
}

export function sampleManifestInput(
  packageId: string,
  packageType: PackageType,
  overrides: Partial<ManifestInput> = {},
): ManifestInput {
  const audio = packageTypeHasAudio(packageType);
  const text = packageTypeHasText(packageType);
  return {
    packageId,
    packageVersion: '1.0.0',
    packageType,
    createdAt: FIXED_TIME,
    createdBy: 'system',
    languageEntityId: 'lang-swh',
    bibleVersionId: 'bv-1',
    ...(audio ? { audioVersionId: 'av-1', audioFormat: 'mp3' as const } : {}),
    ...(text ? { textVersionId: 'tv-1' } : {}),
    contentRevision: 'rev-1',
    syncCursor: 'cursor-1',
    includesVerseTimings: audio,
    includesTotalVerses: text ? 9 : 0,
    includesBooks: ['John'],
    minAppVersion: '1.0.0',
    conflictsWith: [],
    bibleStructure: { totalBooks: 1, totalChapters: 3, totalVerses: 9, testament: 'NT' },
    ...(packageType >= PackageType.AudioPart
      ? {
          seriesInfo: {
            seriesId: 'swh-nt',
            seriesName: 'Swahili NT',
            partNumber: 1,
            totalParts: 2,
            chunkingStrategy: 'book_group' as const,
            contentRange: { startBook: 'John', endBook: 'John' },
            dependencies: [],
            isComplete: false,
          },
        }
      : {}),
    ...overrides,
  };
}

export function sampleAudioEntry(fileName: string, chapter: number): AudioFileEntryInput {
  return {
    fileName,
    mediaFileId: `mf-john-${chapter}`,
    startVerseId: `john-${chapter}-1`,
    endVerseId: `john-${chapter}-3`,
    chapterId: `john-${chapter}`,
    bookId: 'john',
    duration: 30,
    format: 'mp3',
    bitrate: 64000,
    sampleRate: 44100,
    hasVerseTimings: true,
    verseCount: 3,
  };
}

/** Deterministic pseudo-audio bytes (xorshift), distinct per seed. */
export function sampleAudioBytes(size: number, seed: number): Buffer {
  const buf = Buffer.alloc(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

export function tmpPath(dir: string, name: string): string {
  return path.join(dir, name);
}
