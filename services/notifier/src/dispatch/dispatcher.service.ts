import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, type TraceCarrier, getLogger, pgPool } from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { eventsTotal } from '../metrics';
import { WebhookQueue } from '../webhooks/webhook-queue';

interface ClaimedRow {
  event_id: string;
  type: string;
  trace: TraceCarrier | null;
  delivery_id: string | null;
}

/**
 * Fans events out to webhook deliveries. Each pass is one statement (so one transaction) that
 * claims the oldest undispatched events with FOR UPDATE SKIP LOCKED (replicas share the work
 * without waiting on each other), inserts one delivery per matching enabled subscription (the
 * unique (event, subscription) constraint makes a repeated pass harmless) and marks the events
 * dispatched. The delivery jobs are added right after the commit, with ids derived from the
 * delivery and attempt: Redis is not part of the transaction, and a job added before the commit
 * could run before its row is visible. A crash between commit and add leaves pending deliveries
 * without jobs, which the recovery pass (RecoveryService) adds again.
 */
@Injectable()
export class Dispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly pool: Pool;
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private failures = 0;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly queue: WebhookQueue,
  ) {
    this.pool = pgPool(dataSource);
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const batch = this.config.WEBHOOK_DISPATCH_BATCH_SIZE;
    while (!this.stopping) {
      try {
        if ((await this.queue.queued()) >= this.config.WEBHOOK_MAX_QUEUED) {
          // Back-pressure: events wait in Postgres rather than as jobs in Redis.
          await this.sleep(this.config.WEBHOOK_DISPATCH_INTERVAL_MS * 5);
          continue;
        }
        const claimed = await this.dispatchOnce(batch);
        this.failures = 0;
        if (claimed < batch) await this.sleep(this.config.WEBHOOK_DISPATCH_INTERVAL_MS);
      } catch (error) {
        this.failures++;
        if (this.failures === 1 || this.failures % 50 === 0)
          getLogger().warn(
            { err: (error as Error).message, failures: this.failures },
            'webhook dispatch failed; retrying',
          );
        await this.sleep(Math.min(10_000, 250 * 2 ** Math.min(this.failures, 6)));
      }
    }
  }

  /** Claims, fans out and marks up to `limit` events; returns how many it claimed. */
  async dispatchOnce(limit: number): Promise<number> {
    const { rows } = await this.pool.query<ClaimedRow>(
      `WITH claimed AS (
         SELECT id, type, trace FROM events
          WHERE dispatched_at IS NULL
          ORDER BY seq
          LIMIT $1
          FOR UPDATE SKIP LOCKED
       ), marked AS (
         UPDATE events e SET dispatched_at = now() FROM claimed c WHERE e.id = c.id
       ), inserted AS (
         INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, next_attempt_at)
         SELECT s.id, c.id, c.type, now()
           FROM claimed c
           JOIN webhook_subscriptions s ON s.active AND c.type = ANY (s.event_types)
         ON CONFLICT (event_id, subscription_id) DO NOTHING
         RETURNING id, event_id
       )
       SELECT c.id AS event_id, c.type, c.trace, i.id AS delivery_id
         FROM claimed c LEFT JOIN inserted i ON i.event_id = c.id`,
      [limit],
    );
    if (rows.length === 0) return 0;
    const events = new Map<string, string>();
    for (const r of rows) events.set(r.event_id, r.type);
    await this.queue.add(
      rows
        .filter((r) => r.delivery_id !== null)
        .map((r) => ({ deliveryId: r.delivery_id as string, attempt: 1, trace: r.trace })),
    );
    for (const type of events.values()) eventsTotal.inc({ type });
    return events.size;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
