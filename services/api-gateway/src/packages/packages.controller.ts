import {
  Body,
  Controller,
  Get,
  Headers,
  type MessageEvent,
  Param,
  Post,
  Query,
  Req,
  Res,
  Sse,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { Request, Response } from 'express';
import { AppError, ErrorCode, Public } from '@bible/common';
import type { AuthUser } from '../auth/auth.types';
import { CurrentUser } from '../auth/decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { DownloadsService } from '../downloads/downloads.service';
import { RateLimit } from '../rate-limit/rate-limit.guard';
import {
  catalogQuerySchema,
  downloadByContentQuerySchema,
  downloadQuerySchema,
  jobIdParamsSchema,
  packageIdParamsSchema,
  packageRequestSchema,
  type PackageRequestBody,
} from './packages.schemas';
import { JobEvents } from './job-events';
import {
  PackagesService,
  type RequestOutcome,
  readyView,
  statusUrl,
  summaryView,
} from './packages.service';
import './packages.openapi';

const truthy = (v: string | undefined) => v === '1' || v === 'true';

/** 200 with the package (or "up to date"), or 202 with the build job; update fields if any. */
function answer(outcome: RequestOutcome, res: Response) {
  if (outcome.kind === 'upToDate') {
    res.status(200);
    return { upToDate: true as const, packageId: outcome.packageId };
  }
  if (outcome.kind === 'ready') {
    res.status(200);
    return { ...readyView(outcome.generations), ...outcome.update };
  }
  res.status(202).setHeader('Location', statusUrl(outcome.jobId));
  return {
    jobId: outcome.jobId,
    ...(outcome.packageId && { packageId: outcome.packageId }),
    status: outcome.status,
    statusUrl: statusUrl(outcome.jobId),
    ...outcome.update,
  };
}

@Controller('packages')
export class PackagesController {
  constructor(
    private readonly packages: PackagesService,
    private readonly downloads: DownloadsService,
    private readonly jobEvents: JobEvents,
  ) {}

  @Post()
  @RateLimit('builds')
  async request(
    @Body(new ZodValidationPipe(packageRequestSchema)) body: PackageRequestBody,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ) {
    return answer(await this.packages.request(body, user.id), res);
  }

  /** Is there an update for the package a client holds? The same answers as POST with basePackageId. */
  @Get(':packageId/update')
  @RateLimit('builds')
  async update(
    @Param(new ZodValidationPipe(packageIdParamsSchema)) params: { packageId: string },
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ) {
    return answer(await this.packages.updateFor(params.packageId, user.id), res);
  }

  @Get('jobs/:jobId')
  async job(@Param(new ZodValidationPipe(jobIdParamsSchema)) params: { jobId: string }) {
    return this.packages.jobStatus(params.jobId);
  }

  /**
   * Server-Sent Events: the status now (unless Last-Event-ID says the client has it), then one
   * event per change, pushed from the gateway's QueueEvents subscription; closed after
   * `completed` or `failed`.
   */
  @Sse('jobs/:jobId/events')
  async events(
    @Param(new ZodValidationPipe(jobIdParamsSchema)) params: { jobId: string },
    @Headers('last-event-id') lastEventId?: string,
  ): Promise<Observable<MessageEvent>> {
    return this.jobEvents.follow(params.jobId, lastEventId);
  }

  @Get()
  async catalog(
    @Query(new ZodValidationPipe(catalogQuerySchema))
    query: {
      languageEntityId?: string;
      packageType?: string;
      limit: number;
      cursor?: string;
    },
  ) {
    return this.packages.catalog(query);
  }

  @Public()
  @Get('keys')
  async keys() {
    return { keys: await this.packages.signingKeys() };
  }

  /** Download by content: the current package if ready, otherwise 202 with the (shared) build job. */
  @Get('download')
  @RateLimit('downloads')
  async downloadByContent(
    @Query(new ZodValidationPipe(downloadByContentQuerySchema))
    query: {
      packageType: 'audio' | 'text' | 'combined';
      languageEntityId: string;
      audioVersionId?: string;
      textVersionId?: string;
      redirect?: string;
    },
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { redirect, ...request } = query;
    const body = packageRequestSchema.safeParse(request);
    if (!body.success) {
      throw new AppError(
        400,
        ErrorCode.ValidationFailed,
        'Request validation failed',
        body.error.issues.map((i) => ({
          field: ['query', ...i.path.map(String)].join('.'),
          message: i.message,
          code: i.code,
        })),
      );
    }
    const outcome = await this.packages.request(body.data, user.id);
    if (outcome.kind === 'upToDate') throw new Error('download requests name no base');
    if (outcome.kind === 'ready') {
      await this.downloads.serve(outcome.generations[0], req, res, {
        redirect: redirect ? truthy(redirect) : undefined,
      });
      return;
    }
    res
      .status(202)
      .setHeader('Retry-After', '5')
      .setHeader('Location', statusUrl(outcome.jobId))
      .json({
        jobId: outcome.jobId,
        ...(outcome.packageId && { packageId: outcome.packageId }),
        status: outcome.status,
        statusUrl: statusUrl(outcome.jobId),
      });
  }

  @Get(':packageId')
  async detail(@Param(new ZodValidationPipe(packageIdParamsSchema)) params: { packageId: string }) {
    const generation = await this.packages.downloadable(params.packageId);
    return { ...summaryView(generation), manifest: generation.manifest };
  }

  @Get(':packageId/download')
  @RateLimit('downloads')
  async download(
    @Param(new ZodValidationPipe(packageIdParamsSchema)) params: { packageId: string },
    @Query(new ZodValidationPipe(downloadQuerySchema))
    query: { redirect?: string; expiresIn?: number },
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const generation = await this.packages.downloadable(params.packageId);
    await this.downloads.serve(generation, req, res, {
      redirect: query.redirect ? truthy(query.redirect) : undefined,
      expiresIn: query.expiresIn,
    });
  }
}
