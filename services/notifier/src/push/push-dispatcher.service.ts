import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, PollingService, type TraceCarrier, pgPool } from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { PushQueues } from './push-queues';

/**
 * Hands events to device push: claims the oldest events without `push_dispatched_at` (FOR
 * UPDATE SKIP LOCKED, so replicas share them), adds each event's first fan-out page job and
 * only then marks the events, in the same transaction. The job is added before the commit on
 * purpose: the event row already exists, the job id is deterministic and fan-out is idempotent,
 * so a crash after the add only means the next pass adds nothing new — whereas adding after the
 * commit could lose the job.
 */
@Injectable()
export class PushDispatcher extends PollingService {
  private readonly pool: Pool;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly queues: PushQueues,
  ) {
    super('push dispatch');
    this.pool = pgPool(dataSource);
  }

  protected async pass(): Promise<number> {
    const batch = this.config.PUSH_DISPATCH_BATCH_SIZE;
    return (await this.dispatchOnce(batch)) < batch ? this.config.PUSH_DISPATCH_INTERVAL_MS : 0;
  }

  async dispatchOnce(limit: number): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; trace: TraceCarrier | null }>(
        `SELECT id, trace FROM events
          WHERE push_dispatched_at IS NULL
          ORDER BY seq
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length > 0) {
        await this.queues.addFanout(
          rows.map((r) => ({ eventId: r.id, after: null, trace: r.trace })),
        );
        await client.query(
          `UPDATE events SET push_dispatched_at = now() WHERE id = ANY($1::uuid[])`,
          [rows.map((r) => r.id)],
        );
      }
      await client.query('COMMIT');
      return rows.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
