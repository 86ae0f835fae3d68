import { randomFillSync } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AudioFileEntryInput,
  type ManifestInput,
  type PackageRow,
  type PackageWriteInput,
  PackageType,
  createPackageDatabase,
  finalizePackageDatabase,
  insertRows,
  writePackageMetadata,
} from '@bible/package-format';

/** Verses of the synthetic package: as many as a whole Bible's. */
export const SYNTHETIC_VERSES = 31_102;
const T = '2024-01-01T00:00:00.000Z';
/** Size of each synthetic audio file (a chapter's recording). */
export const SYNTHETIC_AUDIO_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Random "audio" files of SYNTHETIC_AUDIO_FILE_BYTES in `dir`, about `sizeMiB` in all and at
 * least `minFiles`, named chapter-NNNN.mp3; returns their names in order.
 */
export function writeSyntheticAudio(dir: string, sizeMiB: number, minFiles = 1): string[] {
  const buf = Buffer.allocUnsafe(SYNTHETIC_AUDIO_FILE_BYTES);
  const count = Math.max(minFiles, Math.round((sizeMiB * 1024 * 1024) / buf.length));
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    randomFillSync(buf);
    names.push(`chapter-${String(i).padStart(4, '0')}.mp3`);
    writeFileSync(join(dir, names[i]), buf);
  }
  return names;
}

export interface SyntheticRevision {
  packageId: string;
  contentRevision: string;
  syncCursor: string;
}

/**
 * A package database of benchmark size: one book, one chapter and SYNTHETIC_VERSES verses, each
 * with a text of about 130 bytes (the size of a whole Bible's text).
 */
export function writeSyntheticDatabase(file: string, revision: SyntheticRevision): void {
  const db = createPackageDatabase(file, { overwrite: true });
  writePackageMetadata(db, { ...revision, createdAt: T });
  const s = { created_at: T, updated_at: T };
  insertRows(db, 'package_language_entities', [{ id: 'lang', name: 'L', ...s }]);
  insertRows(db, 'package_bible_versions', [{ id: 'bv', name: 'B', ...s }]);
  insertRows(db, 'package_books', [
    { id: 'gen', name: 'Genesis', book_number: 1, bible_version_id: 'bv', ...s },
  ]);
  insertRows(db, 'package_chapters', [
    { id: 'gen-1', chapter_number: 1, book_id: 'gen', total_verses: SYNTHETIC_VERSES, ...s },
  ]);
  insertRows(db, 'package_text_versions', [
    { id: 'tv', language_entity_id: 'lang', bible_version_id: 'bv', name: 'T', ...s },
  ]);
  const verses: PackageRow<'package_verses'>[] = [];
  const texts: PackageRow<'package_verse_texts'>[] = [];
  for (let i = 1; i <= SYNTHETIC_VERSES; i++) {
    verses.push({ id: `gen-1-${i}`, chapter_id: 'gen-1', verse_number: i, ...s });
    texts.push({
      id: `vt-${i}`,
      verse_id: `gen-1-${i}`,
      text_version_id: 'tv',
      verse_text: `In the beginning ${i} `.repeat(6),
      ...s,
    });
  }
  insertRows(db, 'package_verses', verses);
  insertRows(db, 'package_verse_texts', texts);
  finalizePackageDatabase(db);
}

/**
 * The write input of a combined package from `dir` (package.sqlite and .mp3 files, taken in name
 * order, 240 s and 30 verses each): `entry` names each file's verses; `manifest` sets what the
 * benchmark varies (revision, timings, structure).
 */
export function syntheticPackageInput(
  dir: string,
  manifest: SyntheticRevision &
    Pick<ManifestInput, 'includesVerseTimings' | 'includesTotalVerses' | 'bibleStructure'>,
  entry: (
    index: number,
  ) => Pick<AudioFileEntryInput, 'startVerseId' | 'endVerseId' | 'hasVerseTimings'>,
): PackageWriteInput {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.mp3'))
    .sort();
  return {
    manifest: {
      packageVersion: '1.0.0',
      packageType: PackageType.Combined,
      createdAt: T,
      createdBy: 'system',
      languageEntityId: 'lang',
      bibleVersionId: 'bv',
      audioVersionId: 'av',
      textVersionId: 'tv',
      audioFormat: 'mp3',
      includesBooks: ['Gen'],
      minAppVersion: '1.0.0',
      conflictsWith: [],
      ...manifest,
    },
    databasePath: join(dir, 'package.sqlite'),
    audio: names.map((fileName, i) => ({
      entry: {
        fileName,
        mediaFileId: `mf-${i}`,
        duration: 240,
        format: 'mp3',
        verseCount: 30,
        ...entry(i),
      },
      source: join(dir, fileName),
    })),
  };
}
