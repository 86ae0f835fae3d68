import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Counter } from 'prom-client';
import {
  AppError,
  type AudioFormat,
  ErrorCode,
  getLogger,
  metricsRegistry,
  setChangeContext,
} from '@bible/common';
import { S3, type S3Handle, uploadStream } from '@bible/storage';
import {
  AUDIO_MIME_TYPES,
  AudioIntegrity,
  CorruptAudioError,
  DECLARABLE_TYPES,
  type ParsedFormat,
  SNIFF_BYTES,
  checkMeasurement,
  parseAudioStream,
  sniffAudioFormat,
} from '@bible/content';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { ContentCache } from '../content/content-cache';
import type { IngestQuery } from './media-files.schemas';
import { MediaFilesRepository, type MediaFileWithTimings } from './media-files.repository';
import { BodyTooLargeError, MeteredStream, peek } from './upload-stream';

const ingests = new Counter({
  name: 'bible_media_ingest_total',
  help: 'Audio uploads by outcome (stored, rejected: 4xx, failed: 5xx).',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

const PART_SIZE = 8 * 1024 * 1024;

/** The declared Content-Type without parameters, lower-cased; '' when absent. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * POST /v1/media-files: the request body is streamed (never buffered whole) through a size
 * limit and a sha256 into an S3 multipart upload, and in parallel into music-metadata for the
 * duration, bitrate and sample rate. Its type is sniffed from the first bytes before anything is
 * stored. The row is written only after the object is complete; any failure deletes the object,
 * and the sweeper removes what a crash leaves behind.
 */
@Injectable()
export class IngestService {
  constructor(
    private readonly repo: MediaFilesRepository,
    private readonly cache: ContentCache,
    @Inject(S3) private readonly s3: S3Handle,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async ingest(req: Request, query: IngestQuery, userId: string): Promise<MediaFileWithTimings> {
    try {
      const file = await this.run(req, query, userId);
      ingests.inc({ result: 'stored' });
      return file;
    } catch (error) {
      ingests.inc({
        result: error instanceof AppError && error.status < 500 ? 'rejected' : 'failed',
      });
      throw error;
    }
  }

  private async run(
    req: Request,
    query: IngestQuery,
    userId: string,
  ): Promise<MediaFileWithTimings> {
    // 1. Everything that can be checked before reading the body.
    const declared = mediaType(req.header('content-type'));
    if (!(declared in DECLARABLE_TYPES)) {
      throw new AppError(415, ErrorCode.UnsupportedMediaType, 'Unsupported Content-Type', [
        {
          field: 'header.content-type',
          message: `send the raw audio as ${Object.keys(DECLARABLE_TYPES).join(', ')}`,
        },
      ]);
    }
    const limit = this.config.MEDIA_MAX_BYTES;
    const length = req.header('content-length');
    if (length !== undefined && Number(length) > limit) {
      throw new AppError(
        413,
        ErrorCode.PayloadTooLarge,
        `Audio files may be at most ${limit} bytes`,
        [{ field: 'body', message: `${length} bytes is more than the limit of ${limit}` }],
      );
    }
    const target = await this.resolveTarget(query);

    // 2. Sniff the type from the first bytes; nothing is stored for a wrong type.
    const head = await peek(req, SNIFF_BYTES);
    if (head.length === 0) {
      throw new AppError(400, ErrorCode.ValidationFailed, 'Empty body', [
        { field: 'body', message: 'send the audio bytes as the request body' },
      ]);
    }
    const format = sniffAudioFormat(head);
    if (!format) {
      throw new AppError(415, ErrorCode.UnsupportedMediaType, 'Not an mp3 or m4a file', [
        {
          field: 'body',
          message: 'the bytes are neither MPEG Layer III (mp3) nor MPEG-4 audio (m4a)',
        },
      ]);
    }
    const expected = DECLARABLE_TYPES[declared];
    if (expected && expected !== format) {
      throw new AppError(
        415,
        ErrorCode.UnsupportedMediaType,
        'Content-Type does not match the bytes',
        [
          {
            field: 'header.content-type',
            message: `declared ${declared} but the bytes are ${format}`,
          },
        ],
      );
    }

    // 3. Stream to the object store and the metadata parser at once.
    const key = `${this.config.MEDIA_OBJECT_PREFIX}${target.audioVersionId}/${target.chapterId}-${randomUUID()}.${format}`;
    const { bytes, sha256, parsed, integrity } = await this.stream(req, key, format, limit);

    // 4. Check, record, and only then keep the object.
    try {
      const measured = checkMeasurement(format, parsed, bytes, integrity);
      const stored = await this.repo.db.transaction(async (manager) => {
        await setChangeContext(manager, { userId, changeSource: 'api' });
        const current = await this.repo.lock(manager, target.id);
        if (current && current.deleted_at === null && !query.replace) throw this.exists(current);
        await this.repo.upsertCompleted(manager, {
          ...target,
          remotePath: key,
          fileSize: bytes,
          durationSeconds: measured.durationSeconds,
          sha256,
          format,
          bitrate: measured.bitrate,
          sampleRate: measured.sampleRate,
        });
        return {
          previous: current?.remote_path ?? null,
          row: await this.repo.find(target.id, manager),
        };
      });
      if (stored.previous && stored.previous !== key) await this.deleteObject(stored.previous);
      await this.cache.invalidate();
      return stored.row as MediaFileWithTimings;
    } catch (error) {
      await this.deleteObject(key);
      if (error instanceof CorruptAudioError) {
        throw new AppError(400, ErrorCode.ValidationFailed, 'The audio file is corrupt', [
          { field: 'body', message: error.message },
        ]);
      }
      if ((error as { constraint?: string }).constraint === 'media_files_verses_within_file') {
        throw new AppError(
          409,
          ErrorCode.Conflict,
          'Existing verse timings do not fit the new audio',
          [
            {
              field: 'body',
              message: `the new audio is shorter than the chapter's verse timings: replace the timings first (PUT /v1/media-files/${target.id}/verse-timings)`,
            },
          ],
        );
      }
      throw error;
    }
  }

  private exists(file: MediaFileWithTimings): AppError {
    return new AppError(409, ErrorCode.Conflict, `The chapter already has media file ${file.id}`, [
      {
        field: 'query.chapterId',
        message: `has ${file.id}; add replace=true to replace its audio`,
      },
    ]);
  }

  /** Validates the query against the catalog (404 unknown, 400 inconsistent, 409 taken). */
  private async resolveTarget(query: IngestQuery) {
    const version = await this.repo.audioVersion(query.audioVersionId);
    if (!version) {
      throw new AppError(
        404,
        ErrorCode.NotFound,
        `Audio version ${query.audioVersionId} not found`,
        [{ field: 'query.audioVersionId', message: 'not found' }],
      );
    }
    const chapter = await this.repo.chapterVerses(version.bible_version_id, query.chapterId);
    if (!chapter) {
      throw new AppError(404, ErrorCode.NotFound, `Chapter ${query.chapterId} not found`, [
        {
          field: 'query.chapterId',
          message: `not a chapter of Bible version ${version.bible_version_id}`,
        },
      ]);
    }
    if (chapter.verses.length === 0) {
      throw new AppError(
        400,
        ErrorCode.ValidationFailed,
        `Chapter ${query.chapterId} has no verses`,
        [{ field: 'query.chapterId', message: 'has no verses' }],
      );
    }
    const position = (field: 'startVerseId' | 'endVerseId', fallback: number) => {
      const id = query[field];
      if (id === undefined) return fallback;
      const index = chapter.verses.findIndex((v) => v.id === id);
      if (index < 0) {
        throw new AppError(400, ErrorCode.ValidationFailed, 'Verse outside the chapter', [
          { field: `query.${field}`, message: `${id} is not a verse of ${query.chapterId}` },
        ]);
      }
      return index;
    };
    const start = position('startVerseId', 0);
    const end = position('endVerseId', chapter.verses.length - 1);
    if (end < start) {
      throw new AppError(400, ErrorCode.ValidationFailed, 'Empty verse range', [
        { field: 'query.endVerseId', message: 'comes before startVerseId' },
      ]);
    }
    const existing = await this.repo.forChapter(version.id, chapter.chapterId);
    const id = existing?.id ?? `${version.id}-${chapter.chapterId}`;
    if (existing && !query.replace) throw this.exists(existing);
    return {
      id,
      audioVersionId: version.id,
      languageEntityId: version.language_entity_id,
      chapterId: chapter.chapterId,
      startVerseId: chapter.verses[start].id,
      endVerseId: chapter.verses[end].id,
    };
  }

  /**
   * Pipes the request through the meter into the upload and the parser (backpressure from both).
   * Resolves once the object is complete; on any failure the upload is aborted and the object
   * deleted before the error is rethrown as an API error.
   */
  private async stream(req: Request, key: string, format: AudioFormat, limit: number) {
    const integrity = new AudioIntegrity(format);
    const meter = new MeteredStream(limit, (chunk) => integrity.update(chunk));
    const toStore = new PassThrough();
    const toParse = new PassThrough();
    const fail = (error: Error) => {
      req.unpipe(meter);
      req.resume(); // discard the rest; the response tells the client why
      toStore.destroy(error);
      toParse.destroy(error);
    };
    meter.on('error', fail);
    // Consumers see the failure through their reads; these keep it from being "unhandled" when a
    // consumer has not attached yet (or has already finished).
    toStore.on('error', () => undefined);
    toParse.on('error', () => undefined);
    req.once('aborted', () => meter.destroy(new Error('the client aborted the upload')));
    req.once('error', (error) => meter.destroy(error));
    meter.pipe(toStore);
    meter.pipe(toParse);
    req.pipe(meter);

    // Aborts its multipart upload itself on any failure.
    const uploading = uploadStream({
      client: this.s3.client,
      bucket: this.s3.bucket,
      key,
      body: toStore,
      contentType: AUDIO_MIME_TYPES[format],
      partSize: PART_SIZE,
      queueSize: 2,
    });
    const parsing = parseAudioStream(toParse, format).finally(() => toParse.resume());
    const [uploaded, parsed] = await Promise.allSettled([uploading, parsing]);
    if (uploaded.status === 'rejected') {
      await this.deleteObject(key);
      const reason = uploaded.reason as Error;
      const cause = meter.destroyed && meter.errored ? meter.errored : reason;
      if (cause instanceof BodyTooLargeError) {
        throw new AppError(
          413,
          ErrorCode.PayloadTooLarge,
          `Audio files may be at most ${limit} bytes`,
          [{ field: 'body', message: cause.message }],
        );
      }
      if (/aborted|ECONNRESET|premature close/i.test(cause.message)) {
        throw new AppError(400, ErrorCode.ValidationFailed, 'The upload was interrupted', [
          { field: 'body', message: cause.message },
        ]);
      }
      getLogger().error({ err: reason.message, key }, 'media upload to the object store failed');
      throw new AppError(503, ErrorCode.ServiceUnavailable, 'The object store is unavailable', [], {
        'Retry-After': '5',
      });
    }
    const sha256 = meter.digest();
    if (parsed.status === 'rejected') {
      await this.deleteObject(key);
      const reason = parsed.reason as Error;
      throw new AppError(400, ErrorCode.ValidationFailed, 'The audio file is corrupt', [
        { field: 'body', message: reason.message },
      ]);
    }
    return {
      bytes: meter.bytes,
      sha256,
      parsed: parsed.value satisfies ParsedFormat,
      integrity: integrity.finish(),
    };
  }

  private async deleteObject(key: string): Promise<void> {
    try {
      await this.s3.client.send(new DeleteObjectCommand({ Bucket: this.s3.bucket, Key: key }));
    } catch (error) {
      // The sweeper removes it later (it has no row).
      getLogger().warn({ err: (error as Error).message, key }, 'could not delete media object');
    }
  }
}
