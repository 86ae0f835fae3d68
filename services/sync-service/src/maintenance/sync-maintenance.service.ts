import type { Pool } from 'pg';
import { getLogger } from '@bible/common';
import type { SyncConfig } from '../config';
import { compactedChangesTotal } from '../metrics';
import {
  COMPACT_SQL,
  EXPIRE_SESSIONS_SQL,
  FAIL_INTERRUPTED_SQL,
  PRUNE_QUEUE_SQL,
  RELAY_NAME,
} from '@bible/sync';

const COMPACT_BATCH = 10_000;
const MAX_BATCHES_PER_RUN = 50;

/**
 * Housekeeping of sync state, each task a job scheduler of the sync-maintenance queue
 * (sync-schedules.ts; the queue runs one job at a time across replicas):
 *  - change_log retention: rows older than SYNC_CHANGE_RETENTION_DAYS that the relay has passed
 *    are deleted, oldest first, except a scope's newest row (so a package's cursor stays valid
 *    while its scope is quiet); per scope the newest deleted position becomes its horizon, and a
 *    pull cursor below it answers 409 (the client resyncs from a package);
 *  - sessions still active after SYNC_SESSION_TTL_HOURS become `expired`;
 *  - mutations left `pending` by an interrupted push become `failed` (a retry applies them);
 *  - processed sync_queue rows older than SYNC_QUEUE_RETENTION_DAYS are removed.
 * Built by the schedules over the service's pg pool.
 */
export class SyncMaintenance {
  constructor(
    private readonly pool: Pool,
    private readonly config: SyncConfig,
  ) {}

  /** Deletes old, relayed change_log rows in batches; returns how many were removed. */
  async compactChangeLog(): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const { rows } = await this.pool.query<{ deleted: number }>(COMPACT_SQL, [
        RELAY_NAME,
        this.config.SYNC_CHANGE_RETENTION_DAYS * 86_400,
        COMPACT_BATCH,
      ]);
      const deleted = rows[0].deleted;
      total += deleted;
      if (deleted === 0) break;
    }
    if (total > 0) {
      compactedChangesTotal.inc(total);
      getLogger().info({ deleted: total }, 'change_log compacted');
    }
    return total;
  }

  async expireSessions(): Promise<number> {
    return this.update(EXPIRE_SESSIONS_SQL, [this.config.SYNC_SESSION_TTL_HOURS * 3600]);
  }

  async failInterrupted(): Promise<number> {
    return this.update(FAIL_INTERRUPTED_SQL, [this.config.SYNC_PENDING_TIMEOUT_SECONDS]);
  }

  async pruneQueue(): Promise<number> {
    return this.update(PRUNE_QUEUE_SQL, [this.config.SYNC_QUEUE_RETENTION_DAYS * 86_400]);
  }

  private async update(sql: string, params: unknown[]): Promise<number> {
    const result = await this.pool.query(sql, params);
    return result.rowCount ?? 0;
  }
}
