// MaintenanceSchedule against the local stack's Redis: schedulers registered once per cluster,
// each occurrence on one replica, no overlap under global concurrency 1, failures recorded and
// retried, stale schedulers removed.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MaintenanceSchedule, type ScheduledTask } from './maintenance';
import { QueueName, queuePrefix } from './queues';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) throw new Error('REDIS_URL is not set: run the tests with `npm test`');

async function eventually(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MaintenanceSchedule', () => {
  let redis: Redis;
  const open: { close(): Promise<void> }[] = [];
  const savedPrefix = process.env.QUEUE_PREFIX;

  before(() => {
    redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    const queue = new Queue(QueueName.SyncMaintenance, {
      prefix: queuePrefix(),
      connection: redis,
    });
    await queue.obliterate({ force: true });
    await queue.close();
    const gateway = new Queue(QueueName.GatewayMaintenance, {
      prefix: queuePrefix(),
      connection: redis,
    });
    await gateway.obliterate({ force: true });
    await gateway.close();
  });

  after(() => {
    process.env.QUEUE_PREFIX = savedPrefix;
    redis.disconnect();
  });

  /** A fresh queue namespace per test. */
  function namespace(): void {
    process.env.QUEUE_PREFIX = `t-maint-${randomUUID().slice(0, 8)}`;
  }

  function idle(): ScheduledTask {
    return { every: 0, run: async () => undefined };
  }

  it('runs each occurrence on one of two replicas, never two at once; one takes over from the other', async () => {
    namespace();
    let active = 0;
    let maxActive = 0;
    const runs: string[] = [];
    const task = (name: string, replica: string): ScheduledTask => ({
      every: 150,
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push(`${name}@${replica}`);
        await sleep(40);
        active--;
        return { ok: true };
      },
    });
    const replicas = new Map<string, { close(): Promise<void> }>();
    for (const replica of ['a', 'b']) {
      const schedule = new MaintenanceSchedule(
        QueueName.SyncMaintenance,
        redis,
        {
          'compact-change-log': task('compact', replica),
          'expire-sessions': task('expire', replica),
          'fail-interrupted-mutations': idle(),
          'prune-sync-queue': idle(),
          'refresh-sync-health': idle(),
        },
        { globalConcurrency: 1 },
      );
      open.push(schedule);
      replicas.set(replica, schedule);
      schedule.start();
    }
    await eventually(() => runs.length >= 6);
    // Which replica takes a job is up to Redis; stopping the one that took the last shows the
    // other was registered too and carries the schedule on alone.
    const stopped = (runs.at(-1) as string).split('@')[1];
    await replicas.get(stopped)?.close();
    const handover = runs.length;
    await eventually(() => runs.length >= handover + 6);
    assert.ok(
      runs.slice(handover).every((r) => !r.endsWith(`@${stopped}`)),
      `after ${stopped} stopped only the other replica ran: ${runs.slice(handover).join(' ')}`,
    );
    assert.equal(maxActive, 1, 'global concurrency 1: no two maintenance jobs overlapped');
    assert.ok(runs.some((r) => r.startsWith('compact@')));
    assert.ok(runs.some((r) => r.startsWith('expire@')));
    await Promise.all(open.splice(0).map((s) => s.close()));
    const queue = new Queue(QueueName.SyncMaintenance, {
      prefix: queuePrefix(),
      connection: redis,
    });
    try {
      const schedulers = await queue.getJobSchedulers();
      assert.deepEqual(schedulers.map((s) => [s.key, s.every]).sort(), [
        ['compact-change-log', 150],
        ['expire-sessions', 150],
      ]);
      // Two replicas ran the schedulers, yet each occurrence ran once: every iteration but the
      // one waiting for its time (and at most one cut off by the shutdown) ran exactly once.
      for (const scheduler of schedulers) {
        const name = scheduler.key === 'compact-change-log' ? 'compact' : 'expire';
        const ran = runs.filter((r) => r.startsWith(`${name}@`)).length;
        const iterations = scheduler.iterationCount ?? 0;
        assert.ok(ran <= iterations, `${name}: ${ran} runs for ${iterations} iterations`);
        assert.ok(ran >= iterations - 2, `${name}: ${ran} runs for ${iterations} iterations`);
      }
    } finally {
      await queue.close();
    }
  });

  it('records a failing run with its reason and retries it', async () => {
    namespace();
    let calls = 0;
    const schedule = new MaintenanceSchedule(QueueName.GatewayMaintenance, redis, {
      'sweep-media': {
        every: 60_000,
        run: async () => {
          calls++;
          throw new Error('object store unreachable');
        },
      },
    });
    open.push(schedule);
    schedule.start();
    await eventually(() => calls >= 1);
    const queue = new Queue(QueueName.GatewayMaintenance, {
      prefix: queuePrefix(),
      connection: redis,
    });
    try {
      let retried: { failedReason: string; attemptsMade: number } | undefined;
      await eventually(async () => {
        const jobs = await queue.getJobs(['delayed', 'wait', 'failed'], 0, -1);
        retried = jobs.find((j) => j.failedReason);
        return retried !== undefined;
      });
      assert.equal(retried?.failedReason, 'object store unreachable');
      assert.equal(retried?.attemptsMade, 1);
    } finally {
      await queue.close();
    }
  });

  it('removes the schedulers of disabled and unknown tasks', async () => {
    namespace();
    const queue = new Queue(QueueName.SyncMaintenance, {
      prefix: queuePrefix(),
      connection: redis,
    });
    try {
      // Left by an older version, and one this version disables.
      await queue.upsertJobScheduler('retired-task', { every: 60_000 });
      await queue.upsertJobScheduler('prune-sync-queue', { every: 60_000 });
      const schedule = new MaintenanceSchedule(QueueName.SyncMaintenance, redis, {
        'compact-change-log': { every: 60_000, run: async () => undefined },
        'expire-sessions': idle(),
        'fail-interrupted-mutations': idle(),
        'prune-sync-queue': idle(),
        'refresh-sync-health': idle(),
      });
      open.push(schedule);
      await schedule.register();
      const keys = (await queue.getJobSchedulers()).map((s) => s.key);
      assert.deepEqual(keys, ['compact-change-log']);
    } finally {
      await queue.close();
    }
  });
});
