import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type PushFanoutJob,
  type PushSendItem,
  type PushSendJob,
  QueueName,
  REDIS,
  type TraceCarrier,
  pushFanoutJobId,
  pushSendJobId,
  queueDefaults,
  queuePrefix,
  reportQueueDepth,
  stopReportingQueueDepth,
} from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import type { ProviderName } from './providers/provider';
import { providerRate, sendLimits } from './push.config';

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

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
  ) {
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
    for (const q of this.all()) reportQueueDepth(q);
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

  /** Notifications per batch job of a provider (never more than its rate per second). */
  batchSize(provider: ProviderName): number {
    const c = this.config;
    return sendLimits(providerRate(c, provider), c.PUSH_SEND_BATCH, c.PUSH_CONCURRENCY).batch;
  }

  /**
   * First attempts due now go out in batch jobs; a retry or a quiet-hours send is a job of its
   * own (its delay is its own). Job ids are deterministic, so adding the same sends again (a
   * fan-out page re-run) adds nothing.
   */
  async addSends(attempts: readonly SendAttempt[]): Promise<void> {
    const jobs = new Map<
      ProviderName,
      { sends: PushSendItem[]; delayMs: number; trace?: TraceCarrier | null }[]
    >();
    const batches = new Map<ProviderName, SendAttempt[]>();
    const add = (
      provider: ProviderName,
      job: { sends: PushSendItem[]; delayMs: number; trace?: TraceCarrier | null },
    ) => jobs.set(provider, [...(jobs.get(provider) ?? []), job]);
    const item = (a: SendAttempt): PushSendItem => ({
      notificationId: a.notificationId,
      attempt: a.attempt,
    });
    for (const a of attempts) {
      const delayMs = a.delayMs !== undefined && a.delayMs > 0 ? Math.ceil(a.delayMs) : 0;
      if (a.attempt === 1 && delayMs === 0)
        batches.set(a.provider, [...(batches.get(a.provider) ?? []), a]);
      else add(a.provider, { sends: [item(a)], delayMs, trace: a.trace });
    }
    for (const [provider, list] of batches) {
      const size = this.batchSize(provider);
      for (let i = 0; i < list.length; i += size) {
        const chunk = list.slice(i, i + size);
        add(provider, { sends: chunk.map(item), delayMs: 0, trace: chunk[0].trace });
      }
    }
    await Promise.all(
      [...jobs].map(([provider, list]) =>
        this.send[provider].addBulk(
          list.map((j) => ({
            name: 'send',
            data: { sends: j.sends, ...carrier(j.trace) },
            opts: {
              jobId: pushSendJobId(j.sends),
              ...(j.delayMs > 0 && { delay: j.delayMs }),
            },
          })),
        ),
      ),
    );
  }

  private all(): Queue[] {
    return [this.fanout, ...Object.values(this.send)];
  }

  async onModuleDestroy(): Promise<void> {
    for (const q of this.all()) stopReportingQueueDepth(q);
    await Promise.all(this.all().map((q) => q.close().catch(() => undefined)));
  }
}
