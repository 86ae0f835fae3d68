import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { AuthUser } from '../auth/auth.types';
import { CurrentUser, RequireRole } from '../auth/decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { RateLimit } from '../rate-limit/rate-limit.guard';
import { translateDbError } from './pg';
import { SyncAdminService } from './sync-admin.service';
import { SyncConflictsService } from './sync-conflicts.service';
import { SyncFeedService } from './sync-feed.service';
import { SyncPushService } from './sync-push.service';
import { SyncSessionsService } from './sync-sessions.service';
import {
  type CompleteSessionBody,
  type ConflictsQuery,
  type CreateSessionBody,
  type PullQuery,
  type PushBody,
  type ResolveConflictBody,
  analyticsQuerySchema,
  completeSessionSchema,
  conflictParamsSchema,
  conflictsQuerySchema,
  createSessionSchema,
  pullQuerySchema,
  pushBodySchema,
  resolveConflictSchema,
  sessionParamsSchema,
} from './sync.schemas';
import './sync.openapi';

/** Incremental sync for offline clients (see docs/sync.md). */
@Controller('sync')
@RateLimit('sync')
export class SyncController {
  constructor(
    private readonly feed: SyncFeedService,
    private readonly pushes: SyncPushService,
    private readonly sessions: SyncSessionsService,
    private readonly conflicts: SyncConflictsService,
  ) {}

  @Post('sessions')
  @HttpCode(201)
  async createSession(
    @Body(new ZodValidationPipe(createSessionSchema)) body: CreateSessionBody,
    @CurrentUser() user: AuthUser,
  ) {
    return this.sessions.create(user, body).catch(translateDbError);
  }

  @Get('sessions/:id')
  async session(
    @Param(new ZodValidationPipe(sessionParamsSchema)) params: { id: string },
    @CurrentUser() user: AuthUser,
  ) {
    return this.sessions.get(user, params.id).catch(translateDbError);
  }

  @Post('sessions/:id/complete')
  @HttpCode(200)
  async completeSession(
    @Param(new ZodValidationPipe(sessionParamsSchema)) params: { id: string },
    @Body(new ZodValidationPipe(completeSessionSchema)) body: CompleteSessionBody,
    @CurrentUser() user: AuthUser,
  ) {
    return this.sessions.complete(user, params.id, body).catch(translateDbError);
  }

  /** Streams the page Postgres assembled as JSON straight into the response. */
  @Get('changes')
  async changes(
    @Query(new ZodValidationPipe(pullQuerySchema)) query: PullQuery,
    @CurrentUser() user: AuthUser,
    @Res() res: Response,
  ): Promise<void> {
    const page = await this.feed.pull(user, query).catch(translateDbError);
    res.status(200).type('application/json').setHeader('Cache-Control', 'no-store').send(page.body);
  }

  @Post('push')
  @HttpCode(200)
  async push(
    @Body(new ZodValidationPipe(pushBodySchema)) body: PushBody,
    @CurrentUser() user: AuthUser,
  ) {
    return this.pushes.push(user, body).catch(translateDbError);
  }

  @Get('conflicts')
  async listConflicts(
    @Query(new ZodValidationPipe(conflictsQuerySchema)) query: ConflictsQuery,
    @CurrentUser() user: AuthUser,
  ) {
    return this.conflicts.list(user, query).catch(translateDbError);
  }

  @Post('conflicts/:id/resolve')
  @HttpCode(200)
  async resolveConflict(
    @Param(new ZodValidationPipe(conflictParamsSchema)) params: { id: string },
    @Body(new ZodValidationPipe(resolveConflictSchema)) body: ResolveConflictBody,
    @CurrentUser() user: AuthUser,
  ) {
    return this.conflicts.resolve(user, params.id, body).catch(translateDbError);
  }
}

/** Operators' view of sync (admin only). */
@Controller('admin/sync')
@RequireRole('admin')
export class SyncAdminController {
  constructor(private readonly admin: SyncAdminService) {}

  @Get('analytics')
  async analytics(@Query(new ZodValidationPipe(analyticsQuerySchema)) query: { days: number }) {
    return this.admin.analytics(query.days).catch(translateDbError);
  }

  @Get('health')
  async health() {
    return this.admin.health().catch(translateDbError);
  }
}
