import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  AppError,
  ErrorCode,
  QueueName,
  REDIS,
  type WebhookAttempt,
  type WebhookDeliveryJob,
  injectTraceCarrier,
  queueDefaults,
  queuePrefix,
  webhookAttemptJob,
  withTimeout,
} from '@bible/common';
import { checkUrl } from '@bible/common/egress/address-guard';
import { encryptSecret, generateWebhookSecret } from '@bible/common/webhooks/secrets';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { cursorFromQuery, toPage } from '../content/page-cursor';
import type {
  CreateWebhook,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  UpdateWebhook,
} from './webhooks.schemas';
import {
  type DeliveryRow,
  type ScheduledRow,
  type SubscriptionRow,
  WebhooksRepository,
} from './webhooks.repository';

/** After a rotation the previous secret signs too for this long (Standard Webhooks practice). */
const ROTATION_OVERLAP_MS = 24 * 3_600_000;
/** Events one replay call schedules at most; the caller continues from `until`. */
const REPLAY_LIMIT = 10_000;

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function webhookView(r: SubscriptionRow) {
  return {
    id: r.id,
    url: r.url,
    eventTypes: r.event_types,
    description: r.description,
    enabled: r.active,
    disabledAt: iso(r.disabled_at),
    disabledReason: r.disabled_reason,
    failingSince: iso(r.failing_since),
    previousSecretExpiresAt: iso(r.previous_secret_expires_at),
    createdAt: iso(r.created_at) as string,
    updatedAt: iso(r.updated_at) as string,
  };
}

export function deliveryView(r: DeliveryRow) {
  return {
    id: r.id,
    messageId: r.event_id ?? r.id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status,
    attempts: r.attempt_history.map((a) => ({
      attempt: a.attempt,
      attemptedAt: iso(a.attempted_at) as string,
      statusCode: a.status_code,
      durationMs: a.duration_ms,
      error: a.error,
      nextAttemptAt: iso(a.next_attempt_at),
    })),
    responseStatus: r.response_status,
    error: r.error,
    nextAttemptAt: iso(r.next_attempt_at),
    deliveredAt: iso(r.delivered_at),
    createdAt: iso(r.created_at) as string,
  };
}

/** Admin management of webhook subscriptions and their deliveries. */
@Injectable()
export class WebhooksService implements OnModuleDestroy {
  private readonly queue: Queue<WebhookDeliveryJob>;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly repo: WebhooksRepository,
  ) {
    this.queue = new Queue<WebhookDeliveryJob>(QueueName.Webhooks, {
      prefix: queuePrefix(),
      connection: redis,
      defaultJobOptions: queueDefaults[QueueName.Webhooks],
    });
    this.queue.on('error', () => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.close().catch(() => undefined);
  }

  /** The same address check the notifier makes at connect time; a refusal names body.url. */
  private async assertDeliverable(url: string): Promise<void> {
    const verdict = await checkUrl(new URL(url), this.config.WEBHOOK_ALLOWED_CIDRS);
    if (!verdict.ok)
      throw new AppError(400, ErrorCode.ValidationFailed, 'Request validation failed', [
        { field: 'body.url', message: verdict.reason, code: 'address_refused' },
      ]);
  }

  private notFound(id: string): never {
    throw new AppError(404, ErrorCode.NotFound, `Webhook subscription ${id} not found`);
  }

  private async enqueue(rows: readonly ScheduledRow[]): Promise<void> {
    const trace = injectTraceCarrier();
    const attempts: WebhookAttempt[] = rows.map((r) => ({
      deliveryId: r.id,
      attempt: r.attempts + 1,
      trace,
    }));
    if (attempts.length === 0) return;
    await withTimeout(
      this.queue.addBulk(attempts.map(webhookAttemptJob)),
      10_000,
      'redis (webhooks queue)',
    );
  }

  async create(body: CreateWebhook, userId: string) {
    await this.assertDeliverable(body.url);
    const secret = generateWebhookSecret();
    const row = await this.repo.create({
      url: body.url,
      eventTypes: body.eventTypes,
      description: body.description ?? null,
      secretEncrypted: encryptSecret(secret, this.config.WEBHOOK_SECRET_KEY),
      createdBy: userId,
    });
    return { ...webhookView(row), secret };
  }

  async list(query: ListWebhooksQuery) {
    const filters = {};
    const cursor = cursorFromQuery(query.cursor, filters);
    const rows = await this.repo.list(cursor?.k as [string, string] | undefined, query.limit);
    return toPage(rows, query.limit, filters, webhookView, {
      keyOf: (r) => [r.cursor_at, r.id],
    });
  }

  async get(id: string) {
    const row = await this.repo.find(id);
    if (!row) this.notFound(id);
    return webhookView(row);
  }

  async update(id: string, body: UpdateWebhook, userId: string) {
    if (body.url !== undefined) await this.assertDeliverable(body.url);
    const row = await this.repo.update(id, { ...body, by: userId });
    if (!row) this.notFound(id);
    return webhookView(row);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.repo.remove(id))) this.notFound(id);
  }

  async rotate(id: string) {
    const secret = generateWebhookSecret();
    const expires = await this.repo.rotate(
      id,
      encryptSecret(secret, this.config.WEBHOOK_SECRET_KEY),
      ROTATION_OVERLAP_MS,
    );
    if (!expires) this.notFound(id);
    return { id, secret, previousSecretExpiresAt: expires.toISOString() };
  }

  async deliveries(id: string, query: ListDeliveriesQuery) {
    if (!(await this.repo.find(id))) this.notFound(id);
    const filters = { status: query.status };
    const cursor = cursorFromQuery(query.cursor, filters);
    const rows = await this.repo.deliveries(
      id,
      query.status,
      cursor?.k as [string, string] | undefined,
      query.limit,
    );
    return toPage(rows, query.limit, filters, deliveryView, {
      keyOf: (r) => [r.cursor_at, r.id],
    });
  }

  async retry(id: string, deliveryId: string) {
    const row = await this.repo.reschedule(id, deliveryId);
    if (row === undefined)
      throw new AppError(404, ErrorCode.NotFound, `Delivery ${deliveryId} not found`);
    if (row === null)
      throw new AppError(
        409,
        ErrorCode.Conflict,
        'The delivery is pending: an attempt is already scheduled',
      );
    await this.enqueue([row]);
    return { deliveryId: row.id, messageId: row.event_id ?? row.id, attempt: row.attempts + 1 };
  }

  async replay(id: string, since: string) {
    const subscription = await this.repo.find(id);
    if (!subscription) this.notFound(id);
    if (!subscription.active)
      throw new AppError(409, ErrorCode.Conflict, 'The endpoint is disabled: enable it first');
    const rows = await this.repo.replay(id, since, REPLAY_LIMIT);
    const scheduled = rows.filter((r) => r.id !== null);
    await this.enqueue(scheduled);
    const last = rows[rows.length - 1];
    return {
      queued: scheduled.length,
      complete: rows.length < REPLAY_LIMIT,
      until: last?.created_at ? new Date(last.created_at).toISOString() : null,
    };
  }

  async test(id: string) {
    const subscription = await this.repo.find(id);
    if (!subscription) this.notFound(id);
    const row = await this.repo.createTest(id, {
      type: 'webhook.test',
      timestamp: new Date().toISOString(),
      data: {
        subscriptionId: id,
        message: 'Test event: your endpoint is reachable and verifies our signature.',
      },
    });
    await this.enqueue([row]);
    return { deliveryId: row.id, messageId: row.id, attempt: 1 };
  }
}
