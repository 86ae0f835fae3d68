import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from 'pg';
import {
  AUDIO_MIME_TYPES,
  SNIFF_BYTES,
  type Sql,
  type TimingEntry,
  type ValidTiming,
  measureAudioFile,
  parseTimingsCsv,
  parseTimingsJson,
  replaceTimings,
  sniffAudioFormat,
  validateTimings,
} from '@bible/content';
import { createS3Client, type S3Config } from '@bible/storage';
import { ensureBucket, putIfChanged } from '../seed/object-store';
import { bookByOsis, bookByUsfm } from './books';
import { connect, inTransaction, invalidateCatalogCache } from './database';
import type { Progress } from './progress';
import { Structure } from './structure';
import { type VersionOptions, upsertVersion } from './text-import';
import { SourceError } from './usfm';

export interface AudioImportOptions extends VersionOptions {
  databaseUrl: string;
  redisUrl?: string;
  s3: S3Config;
  dir: string;
  timings?: string;
  audioVersion: string;
  objectPrefix: string;
  progress: Progress;
}

export interface AudioImportSummary {
  files: number;
  uploaded: number;
  mediaFiles: { written: number; unchanged: number };
  timings: { inserted: number; updated: number; deleted: number };
  audioVersion: 'created' | 'updated' | 'unchanged';
}

/** `Titus_001.mp3`, `titus-1.m4a`, `56_Titus_01.mp3`, `JHN003.mp3` → book token and chapter. */
export function parseAudioFileName(name: string): { book: string; chapter: number } | null {
  const m = /^(?:\d{1,3}[ _.-]+)?([1-4]?[A-Za-z]+?)[ _.-]*0*(\d{1,3})\.(mp3|m4a)$/i.exec(name);
  return m ? { book: m[1], chapter: Number(m[2]) } : null;
}

interface Planned {
  file: string;
  name: string;
  chapterId: string;
  mediaFileId: string;
  format: 'mp3' | 'm4a';
  size: number;
  sha256: string;
  durationSeconds: number;
  bitrate: number;
  sampleRate: number;
  verses: { id: string; number: number }[];
  timings?: ValidTiming[];
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Timing rows grouped by audio file name; errors name the timings file and line. */
async function readTimings(file: string): Promise<Map<string, TimingEntry[]>> {
  const text = await readFile(file, 'utf8');
  let parsed: { rows: TimingEntry[]; issues: { line?: number; field: string; message: string }[] };
  if (/\.json$/i.test(file)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new SourceError(file, undefined, `invalid JSON: ${(error as Error).message}`);
    }
    parsed = parseTimingsJson(value, { requireFile: true });
  } else {
    parsed = parseTimingsCsv(text, { requireFile: true });
  }
  if (parsed.issues.length > 0) {
    const first = parsed.issues[0];
    throw new SourceError(
      file,
      first.line,
      `${first.field}: ${first.message}${parsed.issues.length > 1 ? ` (and ${parsed.issues.length - 1} more problems)` : ''}`,
    );
  }
  const byFile = new Map<string, TimingEntry[]>();
  for (const row of parsed.rows) {
    const list = byFile.get(row.file as string) ?? [];
    list.push(row);
    byFile.set(row.file as string, list);
  }
  return byFile;
}

/**
 * Imports a folder of chapter audio files (and optionally their verse timings) into an audio
 * version. Everything is read, measured and validated before anything is stored; then each file
 * is uploaded under a content-addressed key (skipped when the store already has those bytes) and
 * recorded with its timings in its own transaction. A failed transaction deletes the object it
 * uploaded; a crash in between leaves an object without a row, which the gateway's sweeper
 * removes. Idempotent: a rerun uploads nothing and writes no row.
 */
export async function importAudio(options: AudioImportOptions): Promise<AudioImportSummary> {
  const { progress } = options;
  const names = (await readdir(options.dir)).filter((n) => /\.(mp3|m4a)$/i.test(n)).sort();
  if (names.length === 0) throw new Error(`${options.dir}: no .mp3 or .m4a files`);
  const timings = options.timings ? await readTimings(options.timings) : undefined;
  if (timings) {
    for (const [file, rows] of timings) {
      if (!names.includes(file)) {
        throw new SourceError(
          options.timings as string,
          rows[0].line,
          `file ${file} is not in ${options.dir}`,
        );
      }
    }
  }

  const client = await connect(options.databaseUrl);
  const s3 = createS3Client(options.s3, 4);
  try {
    const version = await inTransaction(client, options.user, () =>
      upsertVersion(client, 'audio_versions', options.audioVersion, options),
    );
    const structure = await Structure.load(client, version.bibleVersionId);

    // 1. Read, measure and validate everything first: a bad file stores nothing.
    const planned: Planned[] = [];
    progress.start('checking audio', names.length);
    for (const name of names) {
      const file = join(options.dir, name);
      const parsedName = parseAudioFileName(name);
      const canon = parsedName && (bookByOsis(parsedName.book) ?? bookByUsfm(parsedName.book));
      const bookOsis = canon?.osis ?? parsedName?.book;
      const chapterId =
        parsedName && bookOsis ? structure.chapterId(bookOsis, parsedName.chapter) : undefined;
      if (!parsedName || !chapterId) {
        throw new SourceError(
          file,
          undefined,
          parsedName
            ? `chapter ${parsedName.book} ${parsedName.chapter} is not in Bible version ${version.bibleVersionId}`
            : 'cannot tell the book and chapter from the file name (expected e.g. Titus_001.mp3 or john-3.mp3)',
        );
      }
      const format = sniffAudioFormat(await readHead(file));
      if (!format)
        throw new SourceError(file, undefined, 'not an mp3 or m4a file (sniffed from its bytes)');
      const size = (await stat(file)).size;
      let measured;
      try {
        measured = await measureAudioFile(file, format, size);
      } catch (error) {
        throw new SourceError(file, undefined, `corrupt audio: ${(error as Error).message}`);
      }
      const verses = structure.chapterVerses(chapterId);
      const entry: Planned = {
        file,
        name,
        chapterId,
        mediaFileId: `${options.audioVersion}-${chapterId}`,
        format,
        size,
        sha256: await sha256File(file),
        ...measured,
        verses,
      };
      const rows = timings?.get(name);
      if (rows) {
        const checked = validateTimings(rows, {
          durationSeconds: measured.durationSeconds,
          verses,
        });
        if (checked.issues.length > 0) {
          const first = checked.issues[0];
          throw new SourceError(options.timings as string, first.line, `${name}: ${first.message}`);
        }
        entry.timings = checked.timings;
      }
      planned.push(entry);
      progress.tick(name);
    }
    progress.stop();

    // 2. Store and record, one file at a time.
    await ensureBucket(s3, options.s3.S3_BUCKET);
    const summary: AudioImportSummary = {
      files: planned.length,
      uploaded: 0,
      mediaFiles: { written: 0, unchanged: 0 },
      timings: { inserted: 0, updated: 0, deleted: 0 },
      audioVersion: version.state,
    };
    progress.start('uploading', planned.length);
    for (const p of planned) {
      const key = `${options.objectPrefix}${options.audioVersion}/${p.chapterId}-${p.sha256.slice(0, 16)}.${p.format}`;
      const uploaded = await putIfChanged(s3, options.s3.S3_BUCKET, {
        key,
        file: p.file,
        size: p.size,
        sha256: p.sha256,
        contentType: AUDIO_MIME_TYPES[p.format],
      });
      if (uploaded) summary.uploaded++;
      let previous: string | null;
      try {
        previous = await inTransaction(client, options.user, () =>
          writeMediaFile(client, options, version.languageId, p, key, summary),
        );
      } catch (error) {
        if (uploaded)
          await s3
            .send(new DeleteObjectCommand({ Bucket: options.s3.S3_BUCKET, Key: key }))
            .catch(() => undefined);
        throw new Error(`${p.file}: could not record it: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (previous && previous !== key) {
        await s3
          .send(new DeleteObjectCommand({ Bucket: options.s3.S3_BUCKET, Key: previous }))
          .catch(() => undefined);
      }
      progress.tick(p.name);
    }
    progress.stop();
    const changed =
      summary.audioVersion !== 'unchanged' ||
      summary.mediaFiles.written +
        summary.timings.inserted +
        summary.timings.updated +
        summary.timings.deleted >
        0;
    if (changed) await invalidateCatalogCache(options.databaseUrl, options.redisUrl);
    return summary;
  } finally {
    s3.destroy();
    await client.end();
  }
}

/** Upserts the media file row and replaces its timings; returns the object key it replaced. */
async function writeMediaFile(
  client: Client,
  options: AudioImportOptions,
  languageId: string,
  p: Planned,
  key: string,
  summary: AudioImportSummary,
): Promise<string | null> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('media_files:' || $1))`, [
    p.mediaFileId,
  ]);
  const before = await client.query<{ remote_path: string | null }>(
    `SELECT remote_path FROM media_files WHERE id = $1 FOR UPDATE`,
    [p.mediaFileId],
  );
  // A file and its new timings are checked against each other at commit.
  await client.query(
    'SET CONSTRAINTS media_files_verses_within_file, media_files_timings_within_file DEFERRED',
  );
  const first = p.verses[0]?.id ?? null;
  const last = p.verses[p.verses.length - 1]?.id ?? null;
  const written = await client.query(
    `INSERT INTO media_files AS m (id, language_entity_id, audio_version_id, media_type, remote_path,
        file_size, duration_seconds, sha256, format, bitrate, sample_rate, upload_status,
        publish_status, check_status, start_verse_id, end_verse_id, chapter_id, is_bible_audio)
     VALUES ($1, $2, $3, 'audio', $4, $5, $6, $7, $8, $9, $10, 'completed',
             CASE WHEN $14::boolean THEN 'published' ELSE 'draft' END, 'pending', $11, $12, $13, true)
     ON CONFLICT (id) DO UPDATE SET
        language_entity_id = EXCLUDED.language_entity_id, remote_path = EXCLUDED.remote_path,
        file_size = EXCLUDED.file_size, duration_seconds = EXCLUDED.duration_seconds,
        sha256 = EXCLUDED.sha256, format = EXCLUDED.format, bitrate = EXCLUDED.bitrate,
        sample_rate = EXCLUDED.sample_rate, upload_status = 'completed',
        start_verse_id = EXCLUDED.start_verse_id, end_verse_id = EXCLUDED.end_verse_id,
        chapter_id = EXCLUDED.chapter_id, deleted_at = NULL,
        publish_status = CASE WHEN $14::boolean THEN 'published' ELSE m.publish_status END
     WHERE (m.language_entity_id, m.remote_path, m.file_size, m.duration_seconds, m.sha256, m.format,
            m.bitrate, m.sample_rate, m.upload_status, m.start_verse_id, m.end_verse_id, m.chapter_id,
            m.deleted_at IS NULL, $14::boolean AND m.publish_status <> 'published')
       IS DISTINCT FROM (EXCLUDED.language_entity_id, EXCLUDED.remote_path, EXCLUDED.file_size,
            EXCLUDED.duration_seconds, EXCLUDED.sha256, EXCLUDED.format, EXCLUDED.bitrate,
            EXCLUDED.sample_rate, 'completed', EXCLUDED.start_verse_id, EXCLUDED.end_verse_id,
            EXCLUDED.chapter_id, true, false)`,
    [
      p.mediaFileId,
      languageId,
      options.audioVersion,
      key,
      p.size,
      p.durationSeconds,
      p.sha256,
      p.format,
      p.bitrate,
      p.sampleRate,
      first,
      last,
      p.chapterId,
      options.publish ?? false,
    ],
  );
  if ((written.rowCount ?? 0) > 0) summary.mediaFiles.written++;
  else summary.mediaFiles.unchanged++;
  if (p.timings) {
    const sql: Sql = async <T>(text: string, params: unknown[]) =>
      (await client.query(text, params)).rows as T[];
    const changes = await replaceTimings(sql, p.mediaFileId, p.timings);
    summary.timings.inserted += changes.inserted;
    summary.timings.updated += changes.updated;
    summary.timings.deleted += changes.deleted;
  }
  return before.rows[0]?.remote_path ?? null;
}
