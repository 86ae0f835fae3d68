import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppError, ErrorCode, setChangeContext } from '@bible/common';
import {
  type ParsedTimings,
  type TimingIssue,
  parseTimingsCsv,
  parseTimingsJson,
  validateTimings,
} from '@bible/content';
import { ContentCache } from '../content/content-cache';
import { mediaType } from './ingest.service';
import { MediaFilesRepository } from './media-files.repository';
import { BodyTooLargeError, readText } from './upload-stream';

const CSV_TYPES = new Set(['text/csv', 'text/plain', 'text/tab-separated-values']);
const MAX_CSV_BYTES = 2 * 1024 * 1024;

function invalid(issues: TimingIssue[]): AppError {
  return new AppError(
    400,
    ErrorCode.ValidationFailed,
    `Invalid verse timings (${issues.length} problem${issues.length === 1 ? '' : 's'})`,
    issues.slice(0, 100).map((i) => ({
      field: `body.${i.field}`,
      message: i.line !== undefined ? `line ${i.line}: ${i.message}` : i.message,
    })),
  );
}

/** PUT /v1/media-files/{id}/verse-timings: validate, then replace the set in one transaction. */
@Injectable()
export class TimingsService {
  constructor(
    private readonly repo: MediaFilesRepository,
    private readonly cache: ContentCache,
  ) {}

  /** Parses the body as JSON (already parsed by the JSON body parser) or CSV. */
  async parse(req: Request): Promise<ParsedTimings> {
    const type = mediaType(req.header('content-type'));
    if (type === 'application/json') return parseTimingsJson(req.body);
    if (CSV_TYPES.has(type)) {
      try {
        return parseTimingsCsv(await readText(req, MAX_CSV_BYTES));
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          throw new AppError(413, ErrorCode.PayloadTooLarge, 'Timings body too large', [
            { field: 'body', message: error.message },
          ]);
        }
        throw error;
      }
    }
    throw new AppError(415, ErrorCode.UnsupportedMediaType, 'Unsupported Content-Type', [
      { field: 'header.content-type', message: 'send application/json or text/csv' },
    ]);
  }

  async replace(id: string, req: Request, userId: string) {
    const parsed = await this.parse(req);
    const result = await this.repo.db.transaction(async (manager) => {
      await setChangeContext(manager, { userId, changeSource: 'api' });
      // Locked: the duration the timings are checked against cannot change until commit.
      const file = await this.repo.lock(manager, id);
      if (!file || file.deleted_at !== null) {
        throw new AppError(404, ErrorCode.NotFound, `Media file ${id} not found`);
      }
      if (parsed.issues.length > 0) throw invalid(parsed.issues);
      if (file.upload_status !== 'completed' || file.duration_seconds === null) {
        throw new AppError(409, ErrorCode.Conflict, `Media file ${id} has no completed upload`);
      }
      const verses = await this.repo.fileVerses(manager, file);
      const { timings, issues } = validateTimings(parsed.rows, {
        durationSeconds: file.duration_seconds,
        verses,
      });
      if (issues.length > 0) throw invalid(issues);
      const changes = await this.repo.replaceTimings(manager, id, timings);
      return { mediaFileId: id, count: timings.length, ...changes };
    });
    if (result.inserted + result.updated + result.deleted > 0) await this.cache.invalidate();
    return result;
  }

  async list(id: string) {
    const file = await this.repo.find(id);
    if (!file || file.deleted_at !== null) return null;
    const rows = await this.repo.timings(id);
    return {
      file,
      timings: rows.map((r) => ({
        verseId: r.verse_id,
        verse: r.verse_number,
        start: r.start_time_seconds,
        end: r.start_time_seconds + r.duration_seconds,
        duration: r.duration_seconds,
      })),
    };
  }
}
