import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DelayedError, type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type PushSendJob,
  REDIS,
  getLogger,
  queuePrefix,
  withSpanFromCarrier,
  workerDefaults,
} from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import {
  notificationsTotal,
  pushDeliveryLatency,
  pushSendDuration,
  pushTokensPrunedTotal,
} from '../metrics';
import { NotificationRepository } from './notification.repository';
import type { ProviderName, PushProvider } from './providers/provider';
import { PushProviders } from './providers/push-providers';
import { retryDelayMs } from './push.config';
import { PushQueues, SEND_QUEUE } from './push-queues';

type Result = 'sent' | 'retry' | 'failed' | 'pruned' | 'done';

/**
 * Sends notifications, one queue and worker per provider so each has its own BullMQ rate
 * limiter (PUSH_RATE_*, across replicas). Each job is one attempt; its outcome is recorded in one
 * statement guarded by the attempt number, and a retry is a new delayed job with a deterministic
 * id (Retry-After when the provider gave one). Only a provider 2xx marks a notification sent.
 */
@Injectable()
export class SendWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly workers: Worker<PushSendJob, Result>[] = [];

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly repo: NotificationRepository,
    private readonly queues: PushQueues,
    private readonly providers: PushProviders,
  ) {}

  private rate(name: ProviderName): number {
    const c = this.config;
    return name === 'fcm'
      ? c.PUSH_RATE_FCM
      : name === 'apns'
        ? c.PUSH_RATE_APNS
        : c.PUSH_RATE_WEBPUSH;
  }

  onApplicationBootstrap(): void {
    for (const name of this.providers.names()) {
      const provider = this.providers.get(name) as PushProvider;
      const worker = new Worker<PushSendJob, Result>(
        SEND_QUEUE[name],
        (job, token) => this.process(provider, job, token),
        {
          prefix: queuePrefix(),
          connection: this.redis.duplicate(),
          concurrency: this.config.PUSH_CONCURRENCY,
          limiter: { max: this.rate(name), duration: 1_000 },
          lockDuration: Math.max(workerDefaults.lockDuration, this.config.PUSH_TIMEOUT_MS * 2),
          stalledInterval: workerDefaults.stalledInterval,
          maxStalledCount: workerDefaults.maxStalledCount,
        },
      );
      worker.on('failed', (job, error) => {
        if (!job) return;
        const final = job.attemptsMade >= (job.opts.attempts ?? 1);
        getLogger().warn(
          { jobId: job.id, notificationId: job.data.notificationId, final, err: error.message },
          'push send job failed',
        );
        if (final)
          void this.repo
            .fail(job.data.notificationId, job.data.attempt, `send job failed: ${error.message}`)
            .catch(() => undefined);
      });
      worker.on('error', (error) =>
        getLogger().error({ err: error.message, provider: name }, 'push send worker error'),
      );
      this.workers.push(worker);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private async process(
    provider: PushProvider,
    job: Job<PushSendJob>,
    token?: string,
  ): Promise<Result> {
    const { notificationId, attempt } = job.data;
    return withSpanFromCarrier(
      'push.send',
      job.data.trace,
      async (span) => {
        span.setAttribute('push.provider', provider.name);
        span.setAttribute('push.attempt', attempt);
        const n = await this.repo.load(notificationId);
        if (!n || n.status !== 'pending' || n.attempts >= attempt) return 'done';
        if (n.not_before && new Date(n.not_before).getTime() > Date.now() + 50) {
          // Quiet hours not over (a job added without its delay): wait, never drop.
          await job.moveToDelayed(new Date(n.not_before).getTime(), token);
          throw new DelayedError();
        }
        if (!n.token_id || !n.token) {
          await this.repo.fail(
            notificationId,
            attempt,
            'device token removed (unregistered or deleted)',
          );
          notificationsTotal.inc({ provider: provider.name, result: 'failed' });
          return 'failed';
        }
        const started = performance.now();
        const outcome = await provider.send(
          { token: n.token, p256dh: n.web_p256dh, auth: n.web_auth },
          {
            title: n.title,
            body: n.body,
            data: n.data,
            collapseKey: n.collapse_key,
            ttlSeconds: this.config.PUSH_TTL_SECONDS,
          },
        );
        pushSendDuration.observe({ provider: provider.name }, (performance.now() - started) / 1000);
        span.setAttribute('push.outcome', outcome.kind);
        if (outcome.statusCode !== null)
          span.setAttribute('http.response.status_code', outcome.statusCode);
        switch (outcome.kind) {
          case 'sent': {
            if (!(await this.repo.sent(notificationId, attempt, outcome.messageId))) return 'done';
            notificationsTotal.inc({ provider: provider.name, result: 'sent' });
            if (n.event_created_at)
              pushDeliveryLatency.observe(
                { provider: provider.name },
                Math.max(0, (Date.now() - new Date(n.event_created_at).getTime()) / 1000),
              );
            return 'sent';
          }
          case 'prune': {
            const pruned = await this.repo.pruneToken(n.token_id, outcome.invalidSince);
            if (pruned) pushTokensPrunedTotal.inc({ provider: provider.name });
            await this.repo.fail(
              notificationId,
              attempt,
              pruned
                ? `${outcome.reason}; token deleted`
                : `${outcome.reason}; token re-registered since, kept`,
            );
            notificationsTotal.inc({
              provider: provider.name,
              result: pruned ? 'pruned' : 'failed',
            });
            return pruned ? 'pruned' : 'failed';
          }
          case 'retry': {
            if (attempt >= this.config.PUSH_MAX_ATTEMPTS) {
              await this.repo.fail(
                notificationId,
                attempt,
                `${outcome.reason} (attempts exhausted)`,
              );
              notificationsTotal.inc({ provider: provider.name, result: 'failed' });
              return 'failed';
            }
            if (!(await this.repo.retry(notificationId, attempt, outcome.reason))) return 'done';
            await this.queues.addSends([
              {
                provider: provider.name,
                notificationId,
                attempt: attempt + 1,
                delayMs: retryDelayMs(
                  attempt,
                  this.config.PUSH_RETRY_BASE_MS,
                  outcome.retryAfterMs,
                ),
                trace: job.data.trace,
              },
            ]);
            notificationsTotal.inc({ provider: provider.name, result: 'retry' });
            return 'retry';
          }
          case 'failed': {
            await this.repo.fail(notificationId, attempt, outcome.reason);
            notificationsTotal.inc({ provider: provider.name, result: 'failed' });
            return 'failed';
          }
        }
      },
      {
        'messaging.system': 'bullmq',
        'messaging.destination.name': SEND_QUEUE[provider.name],
        'messaging.message.id': job.id ?? '',
      },
    );
  }
}
