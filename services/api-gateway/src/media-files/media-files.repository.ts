import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '@bible/common';
import {
  type MediaFileRow,
  type TimingChanges,
  type TimingVerse,
  type ValidTiming,
  type VersionRow,
  replaceTimings,
  returning,
  typeormSql,
} from '@bible/content';

/** A media file with its live timing count (what the media-files API shows). */
export type MediaFileWithTimings = MediaFileRow & { timing_count?: number };

export type AudioVersionRef = Pick<VersionRow, 'id' | 'language_entity_id' | 'bible_version_id'>;

export interface ChapterVerses {
  chapterId: string;
  verses: TimingVerse[];
}

export interface NewMediaFile {
  id: string;
  languageEntityId: string;
  audioVersionId: string;
  chapterId: string;
  startVerseId: string;
  endVerseId: string;
  remotePath: string;
  fileSize: number;
  durationSeconds: number;
  sha256: string;
  format: 'mp3' | 'm4a';
  bitrate: number;
  sampleRate: number;
}

/** SQL behind ingest and verse timings. */
@Injectable()
export class MediaFilesRepository {
  constructor(@Inject(DATA_SOURCE) readonly db: DataSource) {}

  async audioVersion(id: string): Promise<AudioVersionRef | null> {
    const rows = await this.db.query<AudioVersionRef[]>(
      `SELECT id, language_entity_id, bible_version_id FROM audio_versions
        WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** The chapter (in the given Bible structure) and its verses in order; null if unknown. */
  async chapterVerses(bibleVersionId: string, chapterId: string): Promise<ChapterVerses | null> {
    const rows = await this.db.query<
      { chapter_id: string; id: string | null; number: number | null }[]
    >(
      `SELECT c.id AS chapter_id, v.id, v.verse_number AS number
         FROM chapters c JOIN books b ON b.id = c.book_id
         LEFT JOIN verses v ON v.chapter_id = c.id AND v.deleted_at IS NULL
        WHERE c.id = $1 AND b.bible_version_id = $2 AND c.deleted_at IS NULL AND b.deleted_at IS NULL
        ORDER BY v.verse_number`,
      [chapterId, bibleVersionId],
    );
    if (rows.length === 0) return null;
    return {
      chapterId: rows[0].chapter_id,
      verses: rows
        .filter((r) => r.id !== null)
        .map((r) => ({ id: r.id as string, number: r.number as number })),
    };
  }

  async find(
    id: string,
    manager: EntityManager | DataSource = this.db,
  ): Promise<MediaFileWithTimings | null> {
    const rows = await manager.query<MediaFileWithTimings[]>(
      `SELECT m.*, (SELECT count(*)::int FROM media_files_verses t
                     WHERE t.media_file_id = m.id AND t.deleted_at IS NULL) AS timing_count
         FROM media_files m WHERE m.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Locks the row (and its id, so two first uploads of a chapter serialise). */
  async lock(manager: EntityManager, id: string): Promise<MediaFileRow | null> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('media_files:' || $1))`, [id]);
    const rows = await manager.query<MediaFileRow[]>(
      `SELECT * FROM media_files WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** A live file for the chapter in the audio version (one file per chapter). */
  async forChapter(audioVersionId: string, chapterId: string): Promise<MediaFileRow | null> {
    const rows = await this.db.query<MediaFileRow[]>(
      `SELECT * FROM media_files WHERE audio_version_id = $1 AND chapter_id = $2
          AND deleted_at IS NULL ORDER BY created_at LIMIT 1`,
      [audioVersionId, chapterId],
    );
    return rows[0] ?? null;
  }

  /**
   * Inserts the completed file, or rewrites the row with the same id (a replaced file keeps its id,
   * publish status and timings; a soft-deleted one is revived as a draft).
   */
  async upsertCompleted(manager: EntityManager, file: NewMediaFile): Promise<void> {
    await manager.query(
      `INSERT INTO media_files AS m (id, language_entity_id, audio_version_id, media_type, remote_path,
          file_size, duration_seconds, sha256, format, bitrate, sample_rate, upload_status,
          publish_status, check_status, start_verse_id, end_verse_id, chapter_id, is_bible_audio)
       VALUES ($1, $2, $3, 'audio', $4, $5, $6, $7, $8, $9, $10, 'completed', 'draft', 'pending',
               $11, $12, $13, true)
       ON CONFLICT (id) DO UPDATE SET
          language_entity_id = EXCLUDED.language_entity_id,
          audio_version_id = EXCLUDED.audio_version_id,
          remote_path = EXCLUDED.remote_path, file_size = EXCLUDED.file_size,
          duration_seconds = EXCLUDED.duration_seconds, sha256 = EXCLUDED.sha256,
          format = EXCLUDED.format, bitrate = EXCLUDED.bitrate, sample_rate = EXCLUDED.sample_rate,
          upload_status = 'completed', check_status = 'pending',
          start_verse_id = EXCLUDED.start_verse_id, end_verse_id = EXCLUDED.end_verse_id,
          chapter_id = EXCLUDED.chapter_id,
          publish_status = CASE WHEN m.deleted_at IS NULL THEN m.publish_status ELSE 'draft' END,
          deleted_at = NULL`,
      [
        file.id,
        file.languageEntityId,
        file.audioVersionId,
        file.remotePath,
        file.fileSize,
        file.durationSeconds,
        file.sha256,
        file.format,
        file.bitrate,
        file.sampleRate,
        file.startVerseId,
        file.endVerseId,
        file.chapterId,
      ],
    );
  }

  /** The verses a file covers (its range inside its chapter), in order. */
  async fileVerses(manager: EntityManager, file: MediaFileRow): Promise<TimingVerse[]> {
    return manager.query<TimingVerse[]>(
      `SELECT v.id, v.verse_number AS number FROM verses v
        WHERE v.chapter_id = $1 AND v.deleted_at IS NULL
          AND v.verse_number >= coalesce((SELECT verse_number FROM verses WHERE id = $2), 0)
          AND v.verse_number <= coalesce((SELECT verse_number FROM verses WHERE id = $3), 2147483647)
        ORDER BY v.verse_number`,
      [file.chapter_id, file.start_verse_id, file.end_verse_id],
    );
  }

  async timings(id: string) {
    return this.db.query<
      {
        verse_id: string;
        verse_number: number;
        start_time_seconds: number;
        duration_seconds: number;
      }[]
    >(
      `SELECT t.verse_id, v.verse_number, t.start_time_seconds, t.duration_seconds
         FROM media_files_verses t JOIN verses v ON v.id = t.verse_id
        WHERE t.media_file_id = $1 AND t.deleted_at IS NULL
        ORDER BY t.start_time_seconds, v.verse_number`,
      [id],
    );
  }

  /** Makes the file's live timings exactly `timings` (see replaceTimings). */
  async replaceTimings(
    manager: EntityManager,
    mediaFileId: string,
    timings: ValidTiming[],
  ): Promise<TimingChanges> {
    return replaceTimings(typeormSql(manager), mediaFileId, timings);
  }

  async softDelete(manager: EntityManager, id: string): Promise<boolean> {
    const rows = await returning<{ id: string }>(
      manager,
      `UPDATE media_files SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }

  /** Which of `keys` a media_files row (live or soft-deleted) points at. */
  async referencedKeys(keys: string[]): Promise<Set<string>> {
    const rows = await this.db.query<{ remote_path: string }[]>(
      `SELECT remote_path FROM media_files WHERE remote_path = ANY($1::text[])`,
      [keys],
    );
    return new Set(rows.map((r) => r.remote_path));
  }
}
