import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import {
  DATA_SOURCE,
  type EventType,
  type PushFanoutJob,
  type PushPlatform,
  QueueName,
  REDIS,
  type TraceCarrier,
  getLogger,
  injectTraceCarrier,
  pgPool,
  queuePrefix,
  withSpanFromCarrier,
  workerDefaults,
} from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../../config';
import { PROVIDER_OF, type ProviderName } from '../providers/provider';
import { PushProviders } from '../providers/push-providers';
import { PushQueues } from '../push-queues';
import { quietHoursEnd } from '../quiet-hours';
import { renderNotification } from '../templates';
import { type NewNotification, audienceOf, insertPage, recipientsPage } from './recipients';

interface EventRow {
  id: string;
  type: EventType;
  data: Record<string, unknown>;
  user_id: string | null;
  created_at: Date;
  trace: TraceCarrier | null;
}

/**
 * Turns one page of an event's recipients into notifications and send jobs. The next page's job
 * is added first, so other replicas work on it meanwhile and memory stays one page per job.
 * Re-running a page (crash, stalled job) inserts nothing twice and re-adds the jobs of the
 * page's pending notifications under their deterministic ids, so no (event, device) is sent twice.
 */
@Injectable()
export class FanoutWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private worker?: Worker<PushFanoutJob, number>;
  private readonly pool: Pool;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly queues: PushQueues,
    private readonly providers: PushProviders,
  ) {
    this.pool = pgPool(dataSource);
  }

  onApplicationBootstrap(): void {
    this.worker = new Worker<PushFanoutJob, number>(
      QueueName.PushFanout,
      (job) => this.process(job),
      {
        prefix: queuePrefix(),
        connection: this.redis.duplicate(),
        concurrency: 4,
        lockDuration: workerDefaults.lockDuration,
        stalledInterval: workerDefaults.stalledInterval,
        maxStalledCount: workerDefaults.maxStalledCount,
      },
    );
    this.worker.on('failed', (job, error) =>
      getLogger().warn(
        { jobId: job?.id, eventId: job?.data.eventId, err: error.message },
        'push fan-out page failed',
      ),
    );
    this.worker.on('error', (error) =>
      getLogger().error({ err: error.message }, 'push fan-out worker error'),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
  }

  private platforms(): PushPlatform[] {
    return (Object.keys(PROVIDER_OF) as PushPlatform[]).filter((p) =>
      this.providers.has(PROVIDER_OF[p]),
    );
  }

  /** Returns the number of notifications the page queued. */
  async process(job: Job<PushFanoutJob>): Promise<number> {
    const { eventId, after } = job.data;
    return withSpanFromCarrier(
      'push.fanout',
      job.data.trace,
      async (span) => {
        const { rows } = await this.pool.query<EventRow>(
          `SELECT id, type, data, user_id, created_at, trace FROM events WHERE id = $1`,
          [eventId],
        );
        const event = rows[0];
        if (!event) return 0; // pruned by retention
        span.setAttribute('push.event_type', event.type);
        const audience = audienceOf(event.type, event.data, event.user_id);
        const platforms = this.platforms();
        if (!audience || platforms.length === 0) return 0;
        const size = this.config.PUSH_FANOUT_PAGE_SIZE;
        const page = await recipientsPage(this.pool, audience, event.type, platforms, after, size);
        if (page.length === size)
          await this.queues.addFanout([
            { eventId, after: page[page.length - 1].id, trace: job.data.trace },
          ]);
        if (page.length === 0) return 0;
        const now = new Date();
        const rendered = new Map<string, ReturnType<typeof renderNotification>>();
        const render = (locale: string | null) => {
          const key = locale ?? '';
          let r = rendered.get(key);
          if (!r) {
            r = renderNotification(event.type, event.id, event.data, locale);
            rendered.set(key, r);
          }
          return r;
        };
        const fresh: NewNotification[] = page.map((t) => {
          const r = render(t.locale);
          const until =
            t.quiet_start && t.quiet_end && t.quiet_timezone
              ? quietHoursEnd(now, {
                  start: t.quiet_start,
                  end: t.quiet_end,
                  timezone: t.quiet_timezone,
                })
              : now;
          return {
            user_id: t.user_id,
            title: r.title,
            body: r.body,
            data: r.data,
            token_id: t.id,
            provider: PROVIDER_OF[t.platform],
            locale: r.locale,
            not_before: until > now ? until.toISOString() : null,
          };
        });
        const window = this.config.PUSH_COALESCE_WINDOW_MS;
        const coalesceWindow =
          event.type === 'content.changed'
            ? new Date(Math.floor(new Date(event.created_at).getTime() / window) * window)
            : null;
        const pending = await insertPage(
          this.pool,
          event,
          render(null).collapseKey,
          coalesceWindow,
          fresh,
        );
        const trace = injectTraceCarrier();
        await this.queues.addSends(
          pending.map((n) => ({
            provider: n.provider as ProviderName,
            notificationId: n.id,
            attempt: n.attempts + 1,
            delayMs: n.not_before ? new Date(n.not_before).getTime() - Date.now() : undefined,
            trace,
          })),
        );
        span.setAttribute('push.recipients', page.length);
        return pending.length;
      },
      {
        'messaging.system': 'bullmq',
        'messaging.destination.name': QueueName.PushFanout,
        'messaging.message.id': job.id ?? '',
      },
    );
  }
}
