import {
  Inject,
  Injectable,
  type MessageEvent,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { Observable } from 'rxjs';
import { Gauge } from 'prom-client';
import { QueueName, REDIS, getLogger, metricsRegistry, queuePrefix } from '@bible/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { PackagesService } from './packages.service';

export type JobStatusView = Awaited<ReturnType<PackagesService['jobStatus']>>;

const TERMINAL = new Set(['completed', 'failed']);
/** Proxies drop idle connections after a minute or so; a comment every 15 s keeps them open. */
const HEARTBEAT_MS = 15_000;

const openStreams = new Gauge({
  name: 'bible_sse_streams',
  help: 'Open Server-Sent Event streams of build status on this gateway.',
  registers: [metricsRegistry],
});

/**
 * Build status pushed to SSE clients from one BullMQ QueueEvents subscription per gateway: a
 * client costs nothing while its build is quiet (no polling), and one status read per job event
 * is shared by every client watching that job.
 *
 * Event ids are the status itself (`status.progress.stage.attempts`), so a client reconnecting
 * with Last-Event-ID is sent the current status only if it changed since, and a client that saw
 * the terminal event gets an empty, closed stream. That is also why a stream may end after
 * SSE_MAX_STREAM_SECONDS: the client's reconnect loses nothing.
 */
@Injectable()
export class JobEvents implements OnModuleInit, OnModuleDestroy {
  private events?: QueueEvents;
  private readonly watchers = new Map<string, Set<(status: JobStatusView) => void>>();
  private readonly beats = new Set<() => void>();
  private readonly reading = new Set<string>();
  private readonly stale = new Set<string>();
  private heartbeat?: NodeJS.Timeout;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly packages: PackagesService,
    @Inject(GATEWAY_CONFIG) private readonly config: Pick<GatewayConfig, 'SSE_MAX_STREAM_SECONDS'>,
  ) {}

  onModuleInit(): void {
    this.events = new QueueEvents(QueueName.PackageBuild, {
      prefix: queuePrefix(),
      // A blocking reader of its own that waits through Redis outages (the gateway's shared
      // connection fails fast instead).
      connection: this.redis.duplicate({
        maxRetriesPerRequest: null,
        enableOfflineQueue: true,
        autoResendUnfulfilledCommands: true,
        lazyConnect: true,
      }),
    });
    // Outages are reported once through the 'error' handler below, not by ioredis on stderr.
    void this.events.client.then((client) => client.on('error', () => undefined));
    for (const name of ['active', 'progress', 'completed', 'failed', 'waiting', 'delayed'] as const)
      this.events.on(name, ({ jobId }: { jobId: string }) => void this.refresh(jobId));
    this.events.on('error', (error) =>
      getLogger().warn({ err: error.message }, 'job events subscription error'),
    );
    this.heartbeat = setInterval(() => {
      for (const beat of this.beats) beat();
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /**
   * The SSE stream of one job: its status now (404 for an unknown job, before the stream opens),
   * unless Last-Event-ID says the client has it, then one event per change.
   */
  async follow(jobId: string, lastEventId?: string): Promise<Observable<MessageEvent>> {
    const initial = await this.packages.jobStatus(jobId);
    return this.stream(jobId, initial, lastEventId);
  }

  /** Events for one job from `initial` on: changes only, closed after the terminal one. */
  stream(jobId: string, initial: JobStatusView, lastEventId?: string): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      let last = lastEventId;
      let shown: JobStatusView | undefined;
      const push = (status: JobStatusView) => {
        const id = eventId(status);
        // Progress is written by concurrent callbacks and read from Redis or, failing that,
        // Postgres: within one attempt a late, lower reading is dropped, never shown.
        const behind =
          shown !== undefined &&
          status.status === shown.status &&
          (status.attempts ?? 0) === (shown.attempts ?? 0) &&
          status.progress < shown.progress;
        if (id !== last && !behind) {
          shown = status;
          last = id;
          subscriber.next({
            id,
            type: TERMINAL.has(status.status) ? status.status : 'progress',
            data: status,
          });
        }
        if (TERMINAL.has(status.status)) subscriber.complete();
      };
      // A comment only (no data): Nest writes `: keep-alive`, not an event with an id.
      const keepAlive = { comment: 'keep-alive' } as unknown as MessageEvent;
      const beat = () => subscriber.next(keepAlive);
      const watchers = this.watchers.get(jobId) ?? new Set();
      this.watchers.set(jobId, watchers);
      watchers.add(push);
      this.beats.add(beat);
      openStreams.inc();
      push(initial);
      const lifetime = setTimeout(
        () => subscriber.complete(),
        this.config.SSE_MAX_STREAM_SECONDS * 1000,
      );
      lifetime.unref();
      return () => {
        clearTimeout(lifetime);
        watchers.delete(push);
        if (watchers.size === 0) this.watchers.delete(jobId);
        this.beats.delete(beat);
        openStreams.dec();
      };
    });
  }

  /**
   * One status read per job event, whatever the number of clients watching the job; reads of
   * one job never overlap (events during a read cause one more read), so statuses reach clients
   * in order.
   */
  private async refresh(jobId: string): Promise<void> {
    if (this.reading.has(jobId)) {
      this.stale.add(jobId);
      return;
    }
    this.reading.add(jobId);
    try {
      do {
        this.stale.delete(jobId);
        const watchers = this.watchers.get(jobId);
        if (!watchers || watchers.size === 0) return;
        try {
          const status = await this.packages.jobStatus(jobId);
          for (const push of [...watchers]) push(status);
        } catch (error) {
          getLogger().warn({ jobId, err: (error as Error).message }, 'could not read job status');
        }
      } while (this.stale.has(jobId));
    } finally {
      this.reading.delete(jobId);
      this.stale.delete(jobId);
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.events?.close();
  }
}

export function eventId(status: JobStatusView): string {
  return [status.status, status.progress, status.stage, status.attempts ?? 0].join('.');
}
