import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError, ErrorCode, setChangeContext } from '@bible/common';
import { type AuthUser, hasRole } from '../auth/auth.types';
import { CurrentUser, RequireRole } from '../auth/decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { ContentCache } from '../content/content-cache';
import { IngestService } from './ingest.service';
import { MediaFilesRepository, type MediaFileWithTimings } from './media-files.repository';
import { type IngestQuery, ingestQuerySchema, mediaFileParamsSchema } from './media-files.schemas';
import { TimingsService } from './timings.service';
import './media-files.openapi';

type Params = { id: string };
const params = new ZodValidationPipe(mediaFileParamsSchema);

export function mediaFileView(r: MediaFileWithTimings) {
  return {
    id: r.id,
    audioVersionId: r.audio_version_id,
    languageEntityId: r.language_entity_id,
    chapterId: r.chapter_id,
    startVerseId: r.start_verse_id,
    endVerseId: r.end_verse_id,
    objectKey: r.remote_path,
    fileSize: r.file_size === null ? null : Number(r.file_size),
    durationSeconds: r.duration_seconds,
    sha256: r.sha256,
    format: r.format,
    bitrate: r.bitrate,
    sampleRate: r.sample_rate,
    uploadStatus: r.upload_status,
    publishStatus: r.publish_status,
    checkStatus: r.check_status,
    timingCount: r.timing_count ?? 0,
    version: r.version,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** Audio ingest, verse timings and deletion (docs/content.md). Publishing is in content/. */
@Controller('media-files')
export class MediaFilesController {
  constructor(
    private readonly ingestion: IngestService,
    private readonly timings: TimingsService,
    private readonly repo: MediaFilesRepository,
    private readonly cache: ContentCache,
  ) {}

  private notFound(id: string): never {
    throw new AppError(404, ErrorCode.NotFound, `Media file ${id} not found`);
  }

  /** A live file the caller may see: published ones for everyone, all for editors. */
  private async visible(id: string, user: AuthUser): Promise<MediaFileWithTimings> {
    const file = await this.repo.find(id);
    if (!file || file.deleted_at !== null) this.notFound(id);
    if (file.publish_status !== 'published' && !hasRole(user, 'editor')) this.notFound(id);
    return file;
  }

  @Post()
  @RequireRole('editor')
  async ingest(
    @Query(new ZodValidationPipe(ingestQuerySchema)) query: IngestQuery,
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const file = await this.ingestion.ingest(req, query, user.id);
    res.status(201).setHeader('Location', `/v1/media-files/${file.id}`);
    return mediaFileView(file);
  }

  @Get(':id')
  async detail(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    return mediaFileView(await this.visible(p.id, user));
  }

  @Get(':id/verse-timings')
  async listTimings(@Param(params) p: Params, @CurrentUser() user: AuthUser) {
    const file = await this.visible(p.id, user);
    const result = await this.timings.list(p.id);
    if (!result) this.notFound(p.id);
    return {
      mediaFileId: file.id,
      durationSeconds: file.duration_seconds,
      timings: result.timings,
    };
  }

  @Put(':id/verse-timings')
  @RequireRole('editor')
  async replaceTimings(
    @Param(params) p: Params,
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
  ) {
    return this.timings.replace(p.id, req, user.id);
  }

  @Delete(':id')
  @RequireRole('editor')
  @HttpCode(204)
  async remove(@Param(params) p: Params, @CurrentUser() user: AuthUser): Promise<void> {
    const deleted = await this.repo.db.transaction(async (manager) => {
      await setChangeContext(manager, { userId: user.id, changeSource: 'api' });
      return this.repo.softDelete(manager, p.id);
    });
    if (!deleted) this.notFound(p.id);
    await this.cache.invalidate();
  }
}
