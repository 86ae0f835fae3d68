import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import {
  type PushFanoutJob,
  type PushSendJob,
  QueueName,
  REDIS,
  type TraceCarrier,
  metricsRegistry,
  pushFanoutJobId,
  pushSendJobId,
  queueDefaults,
  queuePrefix,
} from '@bible/common';
import type { ProviderName } from './providers/provider';

export const SEND_QUEUE: Record<
  ProviderName,
  QueueName.PushFcm | QueueName.PushApns | QueueName.PushWeb
> = {
  fcm: QueueName.PushFcm,
  apns: QueueName.PushApns,
  webpush: QueueName.PushWeb,
};

export interface SendAttempt {
  provider: ProviderName;
  notificationId: string;
  attempt: number;
  delayMs?: number;
  trace?: TraceCarrier | null;
}

const carrier = (trace?: TraceCarrier | null) => (trace?.traceparent ? { trace } : {});

/** The push queues as the dispatcher, the fan-out and the send workers add to them. */
@Injectable()
export class PushQueues implements OnModuleDestroy {
  readonly fanout: Queue<PushFanoutJob>;
  readonly send: Record<ProviderName, Queue<PushSendJob>>;

  constructor(@Inject(REDIS) redis: Redis) {
    const make = <T>(name: QueueName) => {
      const q = new Queue<T>(name, {
        prefix: queuePrefix(),
        connection: redis,
        defaultJobOptions: queueDefaults[name],
      });
      q.on('error', () => undefined);
      return q;
    };
    this.fanout = make<PushFanoutJob>(QueueName.PushFanout);
    this.send = {
      fcm: make<PushSendJob>(QueueName.PushFcm),
      apns: make<PushSendJob>(QueueName.PushApns),
      webpush: make<PushSendJob>(QueueName.PushWeb),
    };
    const all = [this.fanout, ...Object.values(this.send)];
    new Gauge({
      name: 'bible_push_queue_jobs',
      help: 'Jobs in the push queues by state (waiting includes prioritized; delayed: retries and quiet hours).',
      labelNames: ['queue', 'state'] as const,
      registers: [metricsRegistry],
      async collect() {
        const counts = await Promise.all(
          all.map((q) =>
            q
              .getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed')
              .catch(() => null),
          ),
        );
        this.reset();
        counts.forEach((c, i) => {
          if (!c) return;
          const queue = all[i].name;
          this.set({ queue, state: 'waiting' }, (c.waiting ?? 0) + (c.prioritized ?? 0));
          for (const state of ['active', 'delayed', 'failed'] as const)
            this.set({ queue, state }, c[state] ?? 0);
        });
      },
    });
  }

  /** Fan-out pages; a page already added (deterministic id) is left as it is. */
  async addFanout(pages: { eventId: string; after: string | null; trace?: TraceCarrier | null }[]) {
    if (pages.length === 0) return;
    await this.fanout.addBulk(
      pages.map((p) => ({
        name: 'fanout',
        data: { eventId: p.eventId, after: p.after, ...carrier(p.trace) },
        opts: { jobId: pushFanoutJobId(p.eventId, p.after) },
      })),
    );
  }

  async addSends(attempts: readonly SendAttempt[]): Promise<void> {
    const byProvider = new Map<ProviderName, SendAttempt[]>();
    for (const a of attempts)
      byProvider.set(a.provider, [...(byProvider.get(a.provider) ?? []), a]);
    await Promise.all(
      [...byProvider].map(([provider, list]) =>
        this.send[provider].addBulk(
          list.map((a) => ({
            name: 'send',
            data: { notificationId: a.notificationId, attempt: a.attempt, ...carrier(a.trace) },
            opts: {
              jobId: pushSendJobId(a.notificationId, a.attempt),
              ...(a.delayMs !== undefined && a.delayMs > 0 && { delay: Math.ceil(a.delayMs) }),
            },
          })),
        ),
      ),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(
      [this.fanout, ...Object.values(this.send)].map((q) => q.close().catch(() => undefined)),
    );
  }
}
