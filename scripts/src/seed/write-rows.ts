import type { ClientBase } from 'pg';
import { bookId, chapterId, verseId, type BibleData } from './bible-data';
import type { NarratedChapter } from './narration';
import {
  AUDIO_VERSION,
  BIBLE_VERSION,
  LANGUAGE,
  NARRATION_TAG,
  REGION,
  TEXT_VERSION,
  USERS,
  mediaFileId,
  objectKey,
  timingId,
  verseTextId,
} from './seed-content';
import { upsertRows, type UpsertCount } from './upsert';

export interface NarratedChapterRow extends NarratedChapter {
  chapterNumber: number;
}

const text = (name: string) => ({ name, type: 'text' });
const int = (name: string) => ({ name, type: 'int4' });
const PUBLISHED = 'published';

/** Writes every seed row (inside the caller's transaction); returns what changed per table. */
export async function writeSeedRows(
  client: ClientBase,
  bible: BibleData,
  narrated: NarratedChapterRow[],
): Promise<Record<string, UpsertCount>> {
  const changes: Record<string, UpsertCount> = {};
  const upsert = async (
    table: string,
    columns: { name: string; type: string }[],
    rows: unknown[][],
    revive = true,
  ) => {
    changes[table] = await upsertRows(client, table, columns, rows, { revive });
  };

  await upsert(
    'users',
    [text('id'), text('display_name'), text('role')],
    USERS.map((u) => [u.id, u.displayName, u.role]),
    false,
  );
  await upsert('regions', [text('id'), text('name')], [[REGION.id, REGION.name]]);
  await upsert(
    'language_entities',
    [text('id'), text('name'), text('iso_639_1'), text('iso_639_3'), text('region_id')],
    [[LANGUAGE.id, LANGUAGE.name, LANGUAGE.iso6391, LANGUAGE.iso6393, LANGUAGE.regionId]],
  );
  await upsert(
    'bible_versions',
    [text('id'), text('name'), text('structure_notes'), text('publish_status')],
    [[BIBLE_VERSION.id, BIBLE_VERSION.name, BIBLE_VERSION.structureNotes, PUBLISHED]],
  );

  const books = bible.books;
  const chapters = books.flatMap((b) => b.chapters.map((c) => ({ book: b, chapter: c })));
  const verses = chapters.flatMap(({ book, chapter }) =>
    chapter.verses.map((v) => ({
      id: verseId(book.osis, chapter.number, v.number),
      chapter,
      book,
      v,
    })),
  );

  await upsert(
    'books',
    [
      text('id'),
      text('name'),
      text('osis'),
      int('book_number'),
      text('bible_version_id'),
      text('testament'),
    ],
    books.map((b) => [bookId(b.osis), b.name, b.osis, b.number, BIBLE_VERSION.id, b.testament]),
  );
  await upsert(
    'chapters',
    [text('id'), int('chapter_number'), text('book_id'), int('total_verses')],
    chapters.map(({ book, chapter }) => [
      chapterId(book.osis, chapter.number),
      chapter.number,
      bookId(book.osis),
      chapter.verses.length,
    ]),
  );
  await upsert(
    'verses',
    [text('id'), text('chapter_id'), int('verse_number')],
    verses.map((v) => [v.id, chapterId(v.book.osis, v.chapter.number), v.v.number]),
  );

  await upsert(
    'text_versions',
    [
      text('id'),
      text('language_entity_id'),
      text('bible_version_id'),
      text('name'),
      text('text_version_source'),
      text('publish_status'),
    ],
    [
      [
        TEXT_VERSION.id,
        LANGUAGE.id,
        BIBLE_VERSION.id,
        TEXT_VERSION.name,
        TEXT_VERSION.source,
        PUBLISHED,
      ],
    ],
  );
  await upsert(
    'verse_texts',
    [
      text('id'),
      text('verse_id'),
      text('text_version_id'),
      text('verse_text'),
      text('publish_status'),
    ],
    verses.map((v) => [verseTextId(v.id), v.id, TEXT_VERSION.id, v.v.text, PUBLISHED]),
  );

  await upsert(
    'audio_versions',
    [
      text('id'),
      text('language_entity_id'),
      text('bible_version_id'),
      text('name'),
      text('publish_status'),
    ],
    [[AUDIO_VERSION.id, LANGUAGE.id, BIBLE_VERSION.id, AUDIO_VERSION.name, PUBLISHED]],
  );
  await upsert(
    'tags',
    [text('id'), text('key'), text('value')],
    [[NARRATION_TAG.id, NARRATION_TAG.key, NARRATION_TAG.value]],
  );

  const osis = AUDIO_VERSION.book;
  await upsert(
    'media_files',
    [
      text('id'),
      text('language_entity_id'),
      text('audio_version_id'),
      text('media_type'),
      text('remote_path'),
      { name: 'file_size', type: 'int8' },
      { name: 'duration_seconds', type: 'float8' },
      text('sha256'),
      text('format'),
      int('bitrate'),
      int('sample_rate'),
      text('upload_status'),
      text('publish_status'),
      text('check_status'),
      text('start_verse_id'),
      text('end_verse_id'),
      text('chapter_id'),
      { name: 'is_bible_audio', type: 'bool' },
    ],
    narrated.map((n) => {
      const chapter = chapterId(osis, n.chapterNumber);
      return [
        mediaFileId(chapter),
        LANGUAGE.id,
        AUDIO_VERSION.id,
        'audio',
        objectKey(chapter),
        n.size,
        n.durationSeconds,
        n.sha256,
        'mp3',
        n.bitrate,
        n.sampleRate,
        'completed',
        PUBLISHED,
        'approved',
        n.timings[0].verseId,
        n.timings[n.timings.length - 1].verseId,
        chapter,
        true,
      ];
    }),
  );
  await upsert(
    'media_files_targets',
    [
      text('id'),
      text('media_file_id'),
      { name: 'is_bible_audio', type: 'bool' },
      text('target_type'),
      text('target_id'),
    ],
    narrated.map((n) => {
      const chapter = chapterId(osis, n.chapterNumber);
      return [`${mediaFileId(chapter)}-chapter`, mediaFileId(chapter), true, 'chapter', chapter];
    }),
  );
  await upsert(
    'media_files_tags',
    [text('id'), text('media_file_id'), text('tag_id')],
    narrated.map((n) => {
      const file = mediaFileId(chapterId(osis, n.chapterNumber));
      return [`${file}-${NARRATION_TAG.id}`, file, NARRATION_TAG.id];
    }),
  );
  await upsert(
    'media_files_verses',
    [
      text('id'),
      text('media_file_id'),
      text('verse_id'),
      { name: 'start_time_seconds', type: 'float8' },
      { name: 'duration_seconds', type: 'float8' },
      text('verse_text_id'),
    ],
    narrated.flatMap((n) =>
      n.timings.map((t) => [
        timingId(t.verseId),
        mediaFileId(chapterId(osis, n.chapterNumber)),
        t.verseId,
        t.startTimeSeconds,
        t.durationSeconds,
        verseTextId(t.verseId),
      ]),
    ),
  );
  return changes;
}
