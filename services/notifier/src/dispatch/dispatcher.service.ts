import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, PollingService, type TraceCarrier, pgPool } from '@bible/common';
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
 * without jobs, which the recovery pass (recovery.service.ts) adds again.
 */
@Injectable()
export class Dispatcher extends PollingService {
  private readonly pool: Pool;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly queue: WebhookQueue,
  ) {
    super('webhook dispatch');
    this.pool = pgPool(dataSource);
  }

  protected async pass(): Promise<number> {
    const interval = this.config.WEBHOOK_DISPATCH_INTERVAL_MS;
    // Back-pressure: events wait in Postgres rather than as jobs in Redis.
    if ((await this.queue.queued()) >= this.config.WEBHOOK_MAX_QUEUED) return interval * 5;
    const batch = this.config.WEBHOOK_DISPATCH_BATCH_SIZE;
    return (await this.dispatchOnce(batch)) < batch ? interval : 0;
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
}
