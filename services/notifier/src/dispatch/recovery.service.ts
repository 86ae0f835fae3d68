import type { Pool } from 'pg';
import { type TraceCarrier, getLogger } from '@bible/common';
import type { NotifierConfig } from '../config';
import type { WebhookQueue } from '../webhooks/webhook-queue';

const BATCH = 1_000;

type RecoveryConfig = Pick<NotifierConfig, 'WEBHOOK_RECOVERY_AFTER_MS'>;

/** How often the recovery pass runs: half the recovery delay, between 1 s and 30 s. */
export function recoveryInterval(config: RecoveryConfig): number {
  return Math.min(30_000, Math.max(1_000, config.WEBHOOK_RECOVERY_AFTER_MS / 2));
}

/**
 * The recovery pass. Postgres is the record of what must be delivered; Redis jobs are derived
 * from it. A pending delivery well past its due time (WEBHOOK_RECOVERY_AFTER_MS) may have lost its
 * job (a crash between a commit and the job add): its next attempt's job is added again. The job
 * id is deterministic, so a job that still exists (waiting in a backlog, running) is left alone.
 * Run by the `recover-webhook-jobs` job scheduler of the notifier-maintenance queue; returns how
 * many deliveries it looked at.
 */
export async function recoverWebhookJobs(
  pool: Pool,
  queue: WebhookQueue,
  config: RecoveryConfig,
): Promise<number> {
  const { rows } = await pool.query<{
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
    [config.WEBHOOK_RECOVERY_AFTER_MS, BATCH],
  );
  await queue.add(rows.map((r) => ({ deliveryId: r.id, attempt: r.attempts + 1, trace: r.trace })));
  if (rows.length > 0)
    getLogger().info({ deliveries: rows.length }, 'webhook jobs re-added for overdue deliveries');
  return rows.length;
}
