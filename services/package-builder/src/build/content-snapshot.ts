import type { DataSource, QueryRunner } from 'typeorm';
import type { AudioFormat, FeedPosition } from '@bible/common';
import { type PackageParams, scopeRevision } from '@bible/packages';
import type { BookRow, MediaFileRow } from '@bible/content';

type Row = Record<string, unknown>;

/** A published, uploaded media file as a build reads it, with its book and timing count. */
export type SnapshotMediaFile = Row &
  Pick<
    MediaFileRow,
    'id' | 'bitrate' | 'sample_rate' | 'start_verse_id' | 'end_verse_id' | 'chapter_id'
  > & {
    // Set on every uploaded file.
    remote_path: string;
    file_size: string;
    duration_seconds: number;
    sha256: string;
    format: AudioFormat;
    book_id: string | null;
    timing_count: number;
    verse_count: number;
  };

/** A book of the version with its estimated text and audio bytes (bigint sums, as strings). */
export type SnapshotBook = Row &
  Pick<BookRow, 'id' | 'osis' | 'name' | 'book_number' | 'testament'> & {
    text_bytes: string;
    audio_bytes: string;
  };

/**
 * Everything a build reads, from one REPEATABLE READ snapshot: the revision and the rows agree even
 * while editors keep writing. Large tables are read through a server-side cursor in batches, so
 * memory stays flat whatever the package size.
 */
export class ContentSnapshot {
  private constructor(private readonly runner: QueryRunner) {}

  static async open(db: DataSource): Promise<ContentSnapshot> {
    const runner = db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    } catch (error) {
      await runner.release();
      throw error;
    }
    return new ContentSnapshot(runner);
  }

  /** QueryRunner.query is untyped; every read goes through this one cast. */
  private async q<T>(sql: string, args?: unknown[]): Promise<T[]> {
    return (await this.runner.query(sql, args)) as T[];
  }

  async close(): Promise<void> {
    try {
      await this.runner.query('ROLLBACK');
    } finally {
      await this.runner.release();
    }
  }

  async revision(params: PackageParams): Promise<FeedPosition> {
    return scopeRevision((sql, args) => this.q(sql, args), params);
  }

  async one(sql: string, args: unknown[]): Promise<Row | null> {
    const rows = await this.q<Row>(sql, args);
    return rows[0] ?? null;
  }

  async all<T extends Row = Row>(sql: string, args: unknown[]): Promise<T[]> {
    return this.q<T>(sql, args);
  }

  /**
   * Streams a large result through a server-side cursor, `batch` rows at a time. The next batch
   * is requested before the current one is handed out, so Postgres works while the caller writes.
   */
  async *cursor<T extends Row = Row>(
    sql: string,
    args: unknown[],
    batch = 10_000,
  ): AsyncGenerator<T[]> {
    const name = `c_${Math.random().toString(36).slice(2, 10)}`;
    await this.runner.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, args);
    const fetch = () => this.q<T>(`FETCH FORWARD ${batch} FROM ${name}`);
    try {
      let rows = await fetch();
      while (rows.length > 0) {
        const next = rows.length < batch ? Promise.resolve([] as T[]) : fetch();
        // Attach a handler now so a failed prefetch is not reported as unhandled.
        next.catch(() => undefined);
        yield rows;
        rows = await next;
      }
    } finally {
      await this.runner.query(`CLOSE ${name}`);
    }
  }

  /**
   * Books of the version with per-book size estimates (text bytes, audio bytes), in canonical
   * order; one aggregate query, used both for book selection and for size-based chunking.
   */
  async books(bibleVersionId: string, params: PackageParams): Promise<SnapshotBook[]> {
    const text = params.packageType === 'audio' ? null : (params.textVersionId ?? null);
    const audio = params.packageType === 'text' ? null : (params.audioVersionId ?? null);
    return this.all<SnapshotBook>(
      `WITH t AS (
         SELECT c.book_id, sum(octet_length(vt.verse_text) + 120) AS bytes
           FROM verse_texts vt JOIN verses v ON v.id = vt.verse_id JOIN chapters c ON c.id = v.chapter_id
          WHERE $2::text IS NOT NULL AND vt.text_version_id = $2
            AND vt.publish_status = 'published' AND vt.deleted_at IS NULL
          GROUP BY c.book_id
       ), a AS (
         SELECT c.book_id, sum(m.file_size) AS bytes
           FROM media_files m JOIN chapters c ON c.id = m.chapter_id
          WHERE $3::text IS NOT NULL AND m.audio_version_id = $3 AND m.deleted_at IS NULL
            AND m.publish_status = 'published' AND m.upload_status = 'completed'
          GROUP BY c.book_id
       )
       SELECT b.id, b.osis, b.name, b.book_number, b.testament,
              COALESCE(t.bytes, 0)::text AS text_bytes, COALESCE(a.bytes, 0)::text AS audio_bytes
         FROM books b LEFT JOIN t ON t.book_id = b.id LEFT JOIN a ON a.book_id = b.id
        WHERE b.bible_version_id = $1 AND b.deleted_at IS NULL
        ORDER BY b.book_number`,
      [bibleVersionId, text, audio],
    );
  }

  /** Published, uploaded media files of the books, in canonical order, with timing counts. */
  async mediaFiles(audioVersionId: string, bookIds: string[]): Promise<SnapshotMediaFile[]> {
    return this.all<SnapshotMediaFile>(
      `SELECT m.id, m.remote_path, m.file_size::text, m.duration_seconds, m.sha256, m.format, m.bitrate,
              m.sample_rate, m.chapter_id, c.book_id,
              COALESCE(m.start_verse_id, (SELECT v.id FROM verses v WHERE v.chapter_id = c.id ORDER BY v.verse_number LIMIT 1)) AS start_verse_id,
              COALESCE(m.end_verse_id, (SELECT v.id FROM verses v WHERE v.chapter_id = c.id ORDER BY v.verse_number DESC LIMIT 1)) AS end_verse_id,
              (SELECT count(*)::int FROM media_files_verses t WHERE t.media_file_id = m.id AND t.deleted_at IS NULL) AS timing_count,
              COALESCE(c.total_verses, 0) AS verse_count
         FROM media_files m
         LEFT JOIN chapters c ON c.id = m.chapter_id
         LEFT JOIN books b ON b.id = c.book_id
        WHERE m.audio_version_id = $1 AND m.deleted_at IS NULL AND m.publish_status = 'published'
          AND m.upload_status = 'completed' AND (c.book_id = ANY($2::text[]))
        ORDER BY b.book_number, c.chapter_number, m.id`,
      [audioVersionId, bookIds],
    );
  }
}
