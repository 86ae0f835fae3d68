import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Client, type Pool } from 'pg';
import type { DataSource } from 'typeorm';
import {
  DATA_SOURCE,
  type FeedPosition,
  PollingService,
  advisoryLocks,
  REDIS,
  getLogger,
  pgPool,
  queuePrefix,
  recordEvents,
  withTimeout,
} from '@bible/common';
import { SYNC_CONFIG, type SyncConfig } from '../config';
import {
  feedLagSeconds,
  packagesInvalidatedTotal,
  relayBatchDuration,
  relayErrorsTotal,
  relayLagSeconds,
  relayLeader,
  relayedChangesTotal,
} from '../metrics';
import {
  ADVANCE_RELAY_SQL,
  type FeedRow,
  INIT_RELAY_POSITION_SQL,
  INVALIDATE_GENERATIONS_SQL,
  NEXT_CHANGE_SQL,
  RELAY_BATCH_SQL,
  RELAY_NAME,
  RELAY_POSITION_SQL,
  backoffMs as relayBackoffMs,
  contentChangedEvents,
  invalidationTargets,
  lagSeconds,
} from '@bible/sync';

const LEADER_RETRY_MS = 2_000;
const MIN_IDLE_MS = 10;
/**
 * The BullMQ queue the relay used to fill with one job per change (nothing consumed it); its
 * leftover keys are removed once when a replica takes the relay.
 */
const RETIRED_QUEUE = 'change-events';

/**
 * The change-feed relay. One replica (holder of a Postgres advisory lock) reads change_log in
 * (txid, id) order strictly below `change_log_safe_xmin()` — every transaction below that horizon
 * has ended, so no change can still appear behind the relay's position — and for each batch, in
 * one transaction: advances the stored position with compare-and-set (so two relays can never
 * both apply a batch), marks ready package generations of the touched scopes built at an older
 * revision `stale`, and records one coalesced `content.changed` event per touched scope. A batch
 * is applied exactly once, and so is its event.
 * It wakes on NOTIFY change_log (sent on commit by the ChangeLog migration's trigger) and polls
 * every SYNC_RELAY_INTERVAL_MS, because a change held back by an older open transaction becomes
 * readable without a new notification.
 */
@Injectable()
export class ChangeRelay extends PollingService {
  private readonly pool: Pool;
  private retiredQueueRemoved = false;
  private retiredQueueRetryAt = 0;
  private listener?: Client;
  private leader = false;
  /** A NOTIFY arrived during the pass. */
  private woken = false;
  private position?: FeedPosition;
  private lastErrorLog = 0;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SYNC_CONFIG) private readonly config: SyncConfig,
  ) {
    super('change relay');
    this.pool = pgPool(dataSource);
  }

  override async onModuleDestroy(): Promise<void> {
    await super.onModuleDestroy();
    await this.dropLeadership();
  }

  protected async pass(): Promise<number> {
    if (!(await this.ensureLeader())) return LEADER_RETRY_MS;
    if (!this.retiredQueueRemoved && Date.now() >= this.retiredQueueRetryAt) {
      await this.removeRetiredQueue();
    }
    this.woken = false;
    const relayed = await this.relayOnce();
    if (relayed === 0 && this.woken) {
      // Commits are arriving but are held back by an older open transaction: coalesce wake-ups.
      await new Promise((r) => setTimeout(r, MIN_IDLE_MS));
    }
    return relayed < this.config.SYNC_RELAY_BATCH_SIZE ? this.config.SYNC_RELAY_INTERVAL_MS : 0;
  }

  protected override backoffMs(failures: number): number {
    return relayBackoffMs(failures);
  }

  protected override passFailed(error: unknown, failures: number): void {
    relayErrorsTotal.inc();
    this.position = undefined;
    if (Date.now() - this.lastErrorLog > 30_000) {
      this.lastErrorLog = Date.now();
      getLogger().warn(
        { err: (error as Error).message, failures },
        'change relay iteration failed; retrying',
      );
    }
  }

  /** Reads and applies one batch; returns how many changes it relayed. */
  async relayOnce(): Promise<number> {
    const from = this.position ?? (await this.loadPosition());
    const end = relayBatchDuration.startTimer();
    const { rows } = await this.pool.query<FeedRow>(RELAY_BATCH_SQL, [
      from.txid.toString(),
      from.id.toString(),
      this.config.SYNC_RELAY_BATCH_SIZE,
    ]);
    if (rows.length === 0) {
      await this.updateBacklogLag(from);
      return 0;
    }
    const last = rows[rows.length - 1];
    const next = { txid: BigInt(last.txid), id: BigInt(last.id) };
    const client = await this.pool.connect();
    let invalidated: number;
    try {
      await client.query('BEGIN');
      const advanced = await client.query(ADVANCE_RELAY_SQL, [
        RELAY_NAME,
        from.txid.toString(),
        from.id.toString(),
        last.txid,
        last.id,
        last.changed_at,
        rows.length,
      ]);
      if (advanced.rowCount !== 1) {
        // Another relay moved the position (a lost lock): re-read it and go on from there.
        await client.query('ROLLBACK');
        this.position = undefined;
        return 0;
      }
      const stale = await client.query(INVALIDATE_GENERATIONS_SQL, [
        JSON.stringify(invalidationTargets(rows)),
      ]);
      invalidated = stale.rowCount ?? 0;
      await recordEvents(client, contentChangedEvents(rows, from));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    this.position = next;
    const now = Date.now();
    for (const row of rows) feedLagSeconds.observe(lagSeconds(row.changed_at, now));
    relayedChangesTotal.inc(rows.length);
    if (invalidated > 0) {
      packagesInvalidatedTotal.inc(invalidated);
      getLogger().info(
        { invalidated, through: `${last.txid}:${last.id}` },
        'package generations marked stale',
      );
    }
    relayLagSeconds.set(
      rows.length < this.config.SYNC_RELAY_BATCH_SIZE ? 0 : lagSeconds(last.changed_at, now),
    );
    end();
    return rows.length;
  }

  /**
   * Deletes what is left of the retired per-change queue (up to one job per change ever relayed)
   * so its Redis keys go away; best effort, retried a minute later until it succeeds.
   */
  private async removeRetiredQueue(): Promise<void> {
    const queue = new Queue(RETIRED_QUEUE, { prefix: queuePrefix(), connection: this.redis });
    queue.on('error', () => undefined);
    try {
      const counts = await withTimeout(queue.getJobCounts(), 10_000, 'redis (retired queue)');
      const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
      await withTimeout(queue.obliterate({ force: true }), 120_000, 'redis (retired queue)');
      this.retiredQueueRemoved = true;
      if (jobs > 0) {
        getLogger().info({ queue: RETIRED_QUEUE, jobs }, 'removed the retired change-events queue');
      }
    } catch (error) {
      this.retiredQueueRetryAt = Date.now() + 60_000;
      getLogger().warn(
        { err: (error as Error).message, queue: RETIRED_QUEUE },
        'could not remove the retired change-events queue; will retry',
      );
    } finally {
      await queue.close().catch(() => undefined);
    }
  }

  /**
   * The stored position; created on first start at the current head of the readable feed (history
   * before the relay existed is not replayed: packages are built from current content).
   */
  private async loadPosition(): Promise<FeedPosition> {
    await this.pool.query(INIT_RELAY_POSITION_SQL, [RELAY_NAME]);
    const { rows } = await this.pool.query<{ txid: string; change_id: string }>(
      RELAY_POSITION_SQL,
      [RELAY_NAME],
    );
    this.position = { txid: BigInt(rows[0].txid), id: BigInt(rows[0].change_id) };
    return this.position;
  }

  /** Caught up below the horizon: lag is the age of a committed change still held back (or 0). */
  private async updateBacklogLag(from: FeedPosition): Promise<void> {
    const { rows } = await this.pool.query<{ changed_at: Date }>(NEXT_CHANGE_SQL, [
      from.txid.toString(),
      from.id.toString(),
    ]);
    relayLagSeconds.set(rows[0] ? lagSeconds(rows[0].changed_at, Date.now()) : 0);
  }

  /** Holds the relay lock on a dedicated connection that also LISTENs for change_log commits. */
  private async ensureLeader(): Promise<boolean> {
    if (this.leader && this.listener) return true;
    await this.dropLeadership();
    const client = new Client({
      connectionString: this.config.DATABASE_URL,
      application_name: 'sync-service:relay',
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', () => {
      if (this.listener === client) {
        this.leader = false;
        relayLeader.set(0);
      }
    });
    client.on('end', () => {
      if (this.listener === client) {
        this.leader = false;
        relayLeader.set(0);
      }
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS ok',
        [advisoryLocks.syncRelay],
      );
      if (!rows[0]?.ok) {
        await client.end().catch(() => undefined);
        return false;
      }
      client.on('notification', () => {
        this.woken = true;
        this.wake();
      });
      await client.query('LISTEN change_log');
      this.listener = client;
      this.leader = true;
      this.position = undefined;
      relayLeader.set(1);
      getLogger().info('change relay: this replica relays the change feed');
      return true;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private async dropLeadership(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    this.leader = false;
    relayLeader.set(0);
    if (client) await client.end().catch(() => undefined);
  }
}
