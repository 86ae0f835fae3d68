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
  type TraceCarrier,
  pushSendJobId,
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
import { NotificationRepository, type SendRow } from './notification.repository';
import type { PushProvider } from './providers/provider';
import { PushProviders } from './providers/push-providers';
import { providerRate, retryDelayMs, sendLimits } from './push.config';
import { PushQueues, SEND_QUEUE } from './push-queues';

type Result = 'sent' | 'retry' | 'failed' | 'pruned' | 'done';
type Outcomes = Partial<Record<Result | 'deferred', number>>;

/**
 * Sends notifications, one queue and worker per provider so each has its own BullMQ rate
 * limiter (PUSH_RATE_*, across replicas). A job carries a fan-out page's first attempts in a
 * batch (or one retry): it claims each notification, sends them concurrently and records each
 * outcome in a statement guarded by the attempt number (concurrent jobs share those statements).
 * A retry is a new delayed job with a deterministic id (Retry-After when the provider gave one).
 * Only a provider 2xx marks a notification sent.
 */
@Injectable()
export class SendWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly workers: Worker<PushSendJob, Outcomes>[] = [];

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly repo: NotificationRepository,
    private readonly queues: PushQueues,
    private readonly providers: PushProviders,
  ) {}

  onApplicationBootstrap(): void {
    for (const name of this.providers.names()) {
      const provider = this.providers.get(name) as PushProvider;
      const limits = sendLimits(
        providerRate(this.config, name),
        this.config.PUSH_SEND_BATCH,
        this.config.PUSH_CONCURRENCY,
      );
      const worker = new Worker<PushSendJob, Outcomes>(
        SEND_QUEUE[name],
        (job, token) => this.process(provider, job, token),
        {
          prefix: queuePrefix(),
          connection: this.redis.duplicate(),
          concurrency: limits.jobConcurrency,
          limiter: { max: limits.jobsPerSecond, duration: 1_000 },
          lockDuration: Math.max(workerDefaults.lockDuration, this.config.PUSH_TIMEOUT_MS * 2),
          stalledInterval: workerDefaults.stalledInterval,
          maxStalledCount: workerDefaults.maxStalledCount,
        },
      );
      worker.on('failed', (job, error) => {
        if (!job) return;
        const final = job.attemptsMade >= (job.opts.attempts ?? 1);
        getLogger().warn(
          { jobId: job.id, sends: job.data.sends.length, final, err: error.message },
          'push send job failed',
        );
        if (final) {
          const jobId = job.id ?? pushSendJobId(job.data.sends);
          for (const s of job.data.sends)
            void this.repo
              .failOfJob(s.notificationId, s.attempt, jobId, `send job failed: ${error.message}`)
              .catch(() => undefined);
        }
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
  ): Promise<Outcomes> {
    const jobId = job.id ?? pushSendJobId(job.data.sends);
    return withSpanFromCarrier(
      'push.send',
      job.data.trace,
      async (span) => {
        span.setAttribute('push.provider', provider.name);
        span.setAttribute('push.sends', job.data.sends.length);
        const rows = await Promise.all(
          job.data.sends.map((s) => this.repo.claim(s.notificationId, s.attempt, jobId)),
        );
        const later = rows.filter(
          (n): n is SendRow =>
            !!n?.not_before && new Date(n.not_before).getTime() > Date.now() + 50,
        );
        if (later.length > 0 && job.data.sends.length === 1) {
          // Quiet hours not over (a job added without its delay): wait, never drop.
          await job.moveToDelayed(new Date(later[0].not_before as Date).getTime(), token);
          throw new DelayedError();
        }
        const outcomes: Outcomes = {};
        const count = (r: Result | 'deferred') => (outcomes[r] = (outcomes[r] ?? 0) + 1);
        await Promise.all(
          rows.map(async (n) => {
            if (!n) return count('done');
            if (later.includes(n)) {
              // A batch member still in its quiet hours goes out in a delayed job of its own.
              await this.repo.release(n.id, jobId);
              await this.queues.addSends([
                {
                  provider: provider.name,
                  notificationId: n.id,
                  attempt: n.attempt,
                  delayMs: new Date(n.not_before as Date).getTime() - Date.now(),
                  trace: job.data.trace,
                },
              ]);
              return count('deferred');
            }
            return count(await this.sendOne(provider, n, job.data.trace));
          }),
        );
        for (const [result, n] of Object.entries(outcomes)) span.setAttribute(`push.${result}`, n);
        return outcomes;
      },
      {
        'messaging.system': 'bullmq',
        'messaging.destination.name': SEND_QUEUE[provider.name],
        'messaging.message.id': jobId,
      },
    );
  }

  /** One attempt of one claimed notification, settled before it returns. */
  private async sendOne(
    provider: PushProvider,
    n: SendRow,
    trace: TraceCarrier | undefined,
  ): Promise<Result> {
    const { id: notificationId, attempt } = n;
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
          await this.repo.fail(notificationId, attempt, `${outcome.reason} (attempts exhausted)`);
          notificationsTotal.inc({ provider: provider.name, result: 'failed' });
          return 'failed';
        }
        if (!(await this.repo.retry(notificationId, attempt, outcome.reason))) return 'done';
        await this.queues.addSends([
          {
            provider: provider.name,
            notificationId,
            attempt: attempt + 1,
            delayMs: retryDelayMs(attempt, this.config.PUSH_RETRY_BASE_MS, outcome.retryAfterMs),
            trace,
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
  }
}
