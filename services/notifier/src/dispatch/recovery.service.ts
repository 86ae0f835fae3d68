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
import { WebhookQueue } from '../webhooks/webhook-queue';

const BATCH = 1_000;

/**
 * Postgres is the record of what must be delivered; Redis jobs are derived from it. A pending
 * delivery well past its due time (WEBHOOK_RECOVERY_AFTER_MS) may have lost its job (a crash
 * between a commit and the job add): its next attempt's job is added again. The job id is
 * deterministic, so a job that still exists (waiting in a backlog, running) is left alone.
 */
@Injectable()
export class RecoveryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly pool: Pool;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly queue: WebhookQueue,
  ) {
    this.pool = pgPool(dataSource);
  }

  onApplicationBootstrap(): void {
    const every = Math.min(30_000, Math.max(1_000, this.config.WEBHOOK_RECOVERY_AFTER_MS / 2));
    this.timer = setInterval(() => {
      this.running ??= this.recoverOnce()
        .then((n) => {
          if (n > 0)
            getLogger().info({ deliveries: n }, 'webhook jobs re-added for overdue deliveries');
        })
        .catch((error: Error) =>
          getLogger().warn({ err: error.message }, 'webhook recovery failed'),
        )
        .finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
  }

  /** Re-adds the jobs of overdue pending deliveries; returns how many it looked at. */
  async recoverOnce(): Promise<number> {
    const { rows } = await this.pool.query<{
      id: string;
      attempts: number;
      trace: TraceCarrier | null;
    }>(
      `SELECT d.id, d.attempts, e.trace
         FROM webhook_deliveries d
         LEFT JOIN events e ON e.id = d.event_id
        WHERE d.status = 'pending' AND d.next_attempt_at < now() - $1::float8 * interval '1 millisecond'
        ORDER BY d.next_attempt_at
        LIMIT $2`,
      [this.config.WEBHOOK_RECOVERY_AFTER_MS, BATCH],
    );
    await this.queue.add(
      rows.map((r) => ({ deliveryId: r.id, attempt: r.attempts + 1, trace: r.trace })),
    );
    return rows.length;
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
