import type { JobState } from 'bullmq';
import type { Pool } from 'pg';
import { getLogger, pushSendJobId } from '@bible/common';
import type { NotifierConfig } from '../config';
import type { ProviderName } from './providers/provider';
import type { PushQueues } from './push-queues';

const BATCH = 500;
const ALIVE = new Set<JobState | 'unknown'>([
  'waiting',
  'waiting-children',
  'prioritized',
  'delayed',
  'active',
]);

type RecoveryConfig = Pick<NotifierConfig, 'PUSH_RECOVERY_AFTER_MS'>;

/** How often the push recovery pass runs: half the recovery delay, between 1 s and 5 min. */
export function pushRecoveryInterval(config: RecoveryConfig): number {
  return Math.min(300_000, Math.max(1_000, config.PUSH_RECOVERY_AFTER_MS / 2));
}

interface Candidate {
  id: string;
  provider: ProviderName;
  attempts: number;
  send_job: string | null;
}

/**
 * The push recovery pass. Postgres is the record of what must be sent; a send job can be lost
 * between the commit that schedules it and the job add (a retry, a quiet-hours deferral), and a
 * claim can outlive its job (removed from Redis). A pending notification overdue by
 * PUSH_RECOVERY_AFTER_MS whose job is not waiting, delayed or running gets its claim back and its
 * next attempt as a job of its own. Fan-out first attempts (unclaimed, attempt 0, no delay) are
 * left to their fan-out page, which re-runs after a crash. Claims keep a duplicate job harmless.
 * Run by the `recover-push-sends` job scheduler; returns how many notifications it re-queued.
 */
export async function recoverPushSends(
  pool: Pool,
  queues: PushQueues,
  config: RecoveryConfig,
): Promise<number> {
  const { rows } = await pool.query<Candidate>(
    `SELECT id, provider, attempts, send_job
       FROM notifications
      WHERE status = 'pending' AND provider IS NOT NULL
        -- implied by the next line (not_before is never before created_at); it lets the
        -- (status, created_at) index find the candidates
        AND created_at < now() - $1::float8 * interval '1 millisecond'
        AND coalesce(not_before, created_at) < now() - $1::float8 * interval '1 millisecond'
        AND (attempts > 0 OR send_job IS NOT NULL OR not_before IS NOT NULL)
      ORDER BY created_at
      LIMIT $2`,
    [config.PUSH_RECOVERY_AFTER_MS, BATCH],
  );
  let requeued = 0;
  for (const n of rows) {
    const queue = queues.send[n.provider];
    if (!queue) continue;
    const next = { notificationId: n.id, attempt: n.attempts + 1 };
    const own = pushSendJobId([next]);
    if (n.send_job && n.send_job !== own && ALIVE.has(await queue.getJobState(n.send_job)))
      continue;
    const existing = await queue.getJob(own);
    if (existing && ALIVE.has(await existing.getState())) continue;
    // Finished without settling the notification (or gone): its claim goes, the attempt is made.
    await existing?.remove().catch(() => undefined);
    if (n.send_job)
      await pool.query(`UPDATE notifications SET send_job = NULL WHERE id = $1 AND send_job = $2`, [
        n.id,
        n.send_job,
      ]);
    await queues.addSends([{ provider: n.provider, ...next, delayMs: 1 }]);
    requeued++;
  }
  if (requeued > 0)
    getLogger().warn({ notifications: requeued }, 'push sends re-queued for overdue notifications');
  return requeued;
}
