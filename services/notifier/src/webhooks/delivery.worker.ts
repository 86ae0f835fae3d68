import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DelayedError, type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  QueueName,
  REDIS,
  type WebhookDeliveryJob,
  getLogger,
  queuePrefix,
  toWebhookPayload,
  withSpanFromCarrier,
  workerDefaults,
  type EventType,
} from '@bible/common';
import { decryptSecret, webhookSecretKey } from '@bible/common/webhooks/secrets';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import {
  webhookAttemptDuration,
  webhookDeliveriesTotal,
  webhookDeliveryLatency,
  webhookEndpointsDisabledTotal,
} from '../metrics';
import { type DeliveryContext, DeliveryRepository } from './delivery.repository';
import { EndpointLimiter } from './endpoint-limiter';
import { WebhookSender } from './http-sender';
import { decideNext } from './schedule';
import { signedHeaders } from './signing';
import { WebhookQueue } from './webhook-queue';

type Result = 'delivered' | 'retry' | 'failed' | 'skipped' | 'done';

/** A job whose endpoint is at its concurrency limit waits about this long before trying again. */
const BUSY_DELAY_MS = 250;

/**
 * Makes delivery attempts. Each job is one attempt of one delivery; the attempt is signed at send
 * time (the timestamp is part of the signature), its outcome recorded in one statement, and the
 * next attempt, if any, added as a delayed job with a deterministic id.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private worker?: Worker<WebhookDeliveryJob, Result>;
  private readonly sender: WebhookSender;
  private readonly limiter: EndpointLimiter;
  /** Lease commands of concurrent attempts go to Redis in one pipeline. */
  private readonly limiterRedis: Redis;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly repo: DeliveryRepository,
    private readonly queue: WebhookQueue,
  ) {
    this.sender = new WebhookSender({
      allowed: config.WEBHOOK_ALLOWED_CIDRS,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      maxSocketsPerOrigin: config.WEBHOOK_ENDPOINT_CONCURRENCY,
    });
    this.limiterRedis = redis.duplicate({ enableAutoPipelining: true });
    this.limiter = new EndpointLimiter(
      this.limiterRedis,
      config.WEBHOOK_ENDPOINT_CONCURRENCY,
      config.WEBHOOK_TIMEOUT_MS + 30_000,
      // A quarter of the slots at most wait for one busy endpoint; the rest serve the others.
      Math.min(config.WEBHOOK_ENDPOINT_CONCURRENCY, Math.floor(config.WEBHOOK_CONCURRENCY / 4)),
    );
  }

  onApplicationBootstrap(): void {
    this.worker = new Worker<WebhookDeliveryJob, Result>(
      QueueName.Webhooks,
      (job, token) => this.process(job, token),
      {
        prefix: queuePrefix(),
        connection: this.redis.duplicate(),
        concurrency: this.config.WEBHOOK_CONCURRENCY,
        // An attempt never outlives its timeout by much; a killed worker's job is retried soon.
        lockDuration: Math.max(workerDefaults.lockDuration, this.config.WEBHOOK_TIMEOUT_MS * 2),
        stalledInterval: workerDefaults.stalledInterval,
        maxStalledCount: workerDefaults.maxStalledCount,
        autorun: true,
      },
    );
    this.worker.on('failed', (job, error) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      getLogger().warn(
        { jobId: job.id, deliveryId: job.data.deliveryId, final, err: error.message },
        'webhook delivery job failed',
      );
      if (final)
        void this.repo
          .fail(job.data.deliveryId, job.data.attempt, `delivery job failed: ${error.message}`)
          .catch(() => undefined);
    });
    this.worker.on('error', (error) =>
      getLogger().error({ err: error.message }, 'webhook worker error'),
    );
  }

  private async process(job: Job<WebhookDeliveryJob>, token?: string): Promise<Result> {
    const { deliveryId, attempt } = job.data;
    return withSpanFromCarrier(
      'webhook.deliver',
      job.data.trace,
      async (span) => {
        const delivery = await this.repo.load(deliveryId);
        // Deleted with its endpoint or event, already delivered, or this attempt already made.
        if (!delivery || delivery.status !== 'pending' || delivery.attempts >= attempt)
          return 'done';
        span.setAttribute('webhook.event_type', delivery.event_type);
        span.setAttribute('webhook.attempt', attempt);
        if (!delivery.active) {
          await this.repo.skip(deliveryId, attempt, 'endpoint disabled');
          webhookDeliveriesTotal.inc({ result: 'skipped' });
          return 'skipped';
        }
        const lease = await this.limiter.acquire(delivery.subscription_id);
        if (!lease) {
          await job.moveToDelayed(
            Date.now() + BUSY_DELAY_MS + Math.random() * BUSY_DELAY_MS,
            token,
          );
          throw new DelayedError();
        }
        let sent;
        try {
          const { id, body } = message(delivery);
          const headers = signedHeaders(
            this.keys(delivery),
            id,
            Math.floor(Date.now() / 1000),
            body,
          );
          sent = await this.sender.send(delivery.subscription_id, delivery.url, body, {
            ...headers,
          });
        } finally {
          await lease.release().catch(() => undefined);
        }
        webhookAttemptDuration.observe(sent.durationMs / 1000);
        const outcome = decideNext(attempt, sent, this.config.WEBHOOK_RETRY_SCHEDULE);
        const nextAttemptAt =
          outcome.kind === 'retry' ? new Date(Date.now() + outcome.delayMs) : null;
        const recorded =
          outcome.kind === 'delivered' && !delivery.failing_since
            ? (await this.repo.recordSuccess({
                deliveryId,
                attempt,
                statusCode: sent.statusCode,
                durationMs: sent.durationMs,
              }))
              ? { disabled: false }
              : null
            : await this.repo.recordAttempt({
                deliveryId,
                subscriptionId: delivery.subscription_id,
                attempt,
                statusCode: sent.statusCode,
                durationMs: sent.durationMs,
                error: sent.error,
                status: outcome.kind === 'retry' ? 'pending' : outcome.kind,
                nextAttemptAt,
                success: outcome.kind === 'delivered',
                disableAfterMs: this.config.WEBHOOK_DISABLE_AFTER,
              });
        if (!recorded) return 'done';
        span.setAttribute('http.response.status_code', sent.statusCode ?? 0);
        webhookDeliveriesTotal.inc({ result: outcome.kind });
        if (recorded.disabled) {
          webhookEndpointsDisabledTotal.inc();
          getLogger().warn(
            { subscriptionId: delivery.subscription_id, url: delivery.url, err: sent.error },
            'webhook endpoint disabled: failing for longer than WEBHOOK_DISABLE_AFTER',
          );
        }
        if (outcome.kind === 'delivered' && delivery.event_created_at)
          webhookDeliveryLatency.observe(
            Math.max(0, (Date.now() - new Date(delivery.event_created_at).getTime()) / 1000),
          );
        if (outcome.kind === 'retry' && !recorded.disabled)
          await this.queue.add([
            { deliveryId, attempt: attempt + 1, delayMs: outcome.delayMs, trace: job.data.trace },
          ]);
        return outcome.kind;
      },
      {
        'messaging.system': 'bullmq',
        'messaging.destination.name': QueueName.Webhooks,
        'messaging.message.id': job.id ?? '',
      },
    );
  }

  /** The current secret, then the previous one while it is still valid after a rotation. */
  private keys(d: DeliveryContext): Buffer[] {
    const key = this.config.WEBHOOK_SECRET_KEY;
    const keys = [webhookSecretKey(decryptSecret(d.secret_encrypted, key))];
    if (
      d.previous_secret_encrypted &&
      d.previous_secret_expires_at &&
      new Date(d.previous_secret_expires_at).getTime() > Date.now()
    )
      keys.push(webhookSecretKey(decryptSecret(d.previous_secret_encrypted, key)));
    return keys;
  }

  /** Stop taking jobs, let running attempts finish, then close connections. */
  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
    this.sender.close();
    this.limiterRedis.disconnect();
  }
}

/** The message id (`webhook-id`) and body of a delivery. */
export function message(d: DeliveryContext): { id: string; body: string } {
  if (d.event_id && d.event_data && d.event_created_at)
    return {
      id: d.event_id,
      body: JSON.stringify(
        toWebhookPayload({
          type: d.event_type as EventType,
          createdAt: d.event_created_at,
          data: d.event_data,
        }),
      ),
    };
  return { id: d.id, body: JSON.stringify(d.payload ?? {}) };
}
