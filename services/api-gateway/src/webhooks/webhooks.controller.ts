import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types';
import { CurrentUser, RequireRole } from '../auth/decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import {
  type CreateWebhook,
  type ListDeliveriesQuery,
  type ListWebhooksQuery,
  type UpdateWebhook,
  createWebhookSchema,
  deliveryParamsSchema,
  listDeliveriesQuerySchema,
  listWebhooksQuerySchema,
  replaySchema,
  updateWebhookSchema,
  webhookParamsSchema,
} from './webhooks.schemas';
import { WebhooksService } from './webhooks.service';
import './webhooks.openapi';

const params = new ZodValidationPipe(webhookParamsSchema);

/** Webhook subscriptions of internal services (admin only); docs/events.md. */
@Controller('admin/webhooks')
@RequireRole('admin')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(201)
  create(
    @Body(new ZodValidationPipe(createWebhookSchema)) body: CreateWebhook,
    @CurrentUser() user: AuthUser,
  ) {
    return this.webhooks.create(body, user.id);
  }

  @Get()
  list(@Query(new ZodValidationPipe(listWebhooksQuerySchema)) query: ListWebhooksQuery) {
    return this.webhooks.list(query);
  }

  @Get(':id')
  get(@Param(params) p: { id: string }) {
    return this.webhooks.get(p.id);
  }

  @Patch(':id')
  update(
    @Param(params) p: { id: string },
    @Body(new ZodValidationPipe(updateWebhookSchema)) body: UpdateWebhook,
    @CurrentUser() user: AuthUser,
  ) {
    return this.webhooks.update(p.id, body, user.id);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param(params) p: { id: string }): Promise<void> {
    await this.webhooks.remove(p.id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  rotate(@Param(params) p: { id: string }) {
    return this.webhooks.rotate(p.id);
  }

  @Get(':id/deliveries')
  deliveries(
    @Param(params) p: { id: string },
    @Query(new ZodValidationPipe(listDeliveriesQuerySchema)) query: ListDeliveriesQuery,
  ) {
    return this.webhooks.deliveries(p.id, query);
  }

  @Post(':id/deliveries/:deliveryId/retry')
  @HttpCode(202)
  retry(@Param(new ZodValidationPipe(deliveryParamsSchema)) p: { id: string; deliveryId: string }) {
    return this.webhooks.retry(p.id, p.deliveryId);
  }

  @Post(':id/replay')
  @HttpCode(202)
  replay(
    @Param(params) p: { id: string },
    @Body(new ZodValidationPipe(replaySchema)) body: { since: string },
  ) {
    return this.webhooks.replay(p.id, body.since);
  }

  @Post(':id/test')
  @HttpCode(202)
  test(@Param(params) p: { id: string }) {
    return this.webhooks.test(p.id);
  }
}
