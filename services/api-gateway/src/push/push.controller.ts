import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import type { AuthUser } from '../auth/auth.types';
import { CurrentUser, Public } from '../auth/decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import {
  type ListNotificationsQuery,
  type PutPreferences,
  type RegisterToken,
  listNotificationsQuerySchema,
  putPreferencesSchema,
  registerTokenSchema,
  tokenParamsSchema,
} from './push.schemas';
import { PushService } from './push.service';
import './push.openapi';

/** Device push for the signed-in user: tokens, notifications, preferences. */
@Controller()
export class PushController {
  constructor(private readonly push: PushService) {}

  @Post('push-tokens')
  async register(
    @Body(new ZodValidationPipe(registerTokenSchema)) body: RegisterToken,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { status, view } = await this.push.register(user.id, body);
    res.status(status);
    return view;
  }

  @Get('push-tokens')
  list(@CurrentUser() user: AuthUser) {
    return this.push.list(user.id);
  }

  @Delete('push-tokens/:id')
  @HttpCode(204)
  async remove(
    @Param(new ZodValidationPipe(tokenParamsSchema)) p: { id: string },
    @CurrentUser() user: AuthUser,
  ): Promise<void> {
    await this.push.remove(user.id, p.id);
  }

  @Public()
  @Get('push/vapid-public-key')
  vapidPublicKey() {
    return this.push.vapidPublicKey();
  }

  @Get('notifications')
  notifications(
    @Query(new ZodValidationPipe(listNotificationsQuerySchema)) query: ListNotificationsQuery,
    @CurrentUser() user: AuthUser,
  ) {
    return this.push.notifications(user.id, query);
  }

  @Get('notification-preferences')
  preferences(@CurrentUser() user: AuthUser) {
    return this.push.preferences(user.id);
  }

  @Put('notification-preferences')
  putPreferences(
    @Body(new ZodValidationPipe(putPreferencesSchema)) body: PutPreferences,
    @CurrentUser() user: AuthUser,
  ) {
    return this.push.putPreferences(user.id, body);
  }
}
