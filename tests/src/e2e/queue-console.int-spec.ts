// The queue console (issue 16): Bull Board on the gateway's internal listener, behind basic auth,
// read-only by default, loaded in headless Chromium (Debian's `chromium`), showing every queue
// and a build the builder failed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueName, queueDefaults } from '@bible/common';
import { freshTestDataSource } from '@bible/common/database/testing';
import {
  type RunningService,
  eventually,
  freePort,
  spawnService,
  startService,
  testEnv,
} from '@bible/testing';

const USER = 'ops';
const PASSWORD = `console-${randomUUID()}`;

interface BoardQueue {
  name: string;
  readOnlyMode: boolean;
  counts: Record<string, number>;
  jobs: { id: string; failedReason?: string }[];
}

describe('queue console (Bull Board)', { timeout: 5 * 60_000 }, () => {
  let env: Record<string, string>;
  let gateway: RunningService;
  let builder: RunningService;
  let consoleUrl = '';
  let redis: Redis;
  const requestId = randomUUID();

  const board = (path: string, init: RequestInit = {}, password = PASSWORD) =>
    fetch(`${consoleUrl}${path}`, {
      ...init,
      headers: { authorization: `Basic ${Buffer.from(`${USER}:${password}`).toString('base64')}` },
    });

  before(async () => {
    await (await freshTestDataSource()).destroy();
    env = testEnv();
    const port = await freePort();
    consoleUrl = `http://127.0.0.1:${port}`;
    [gateway, builder] = await Promise.all([
      startService('api-gateway', {
        ...env,
        QUEUE_CONSOLE_PORT: String(port),
        QUEUE_CONSOLE_USER: USER,
        QUEUE_CONSOLE_PASSWORD: PASSWORD,
      }),
      startService('package-builder', env),
    ]);
    // A build job whose request does not exist: the builder fails it for good, with its reason.
    redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(QueueName.PackageBuild, {
      prefix: env.QUEUE_PREFIX,
      connection: redis,
      defaultJobOptions: queueDefaults[QueueName.PackageBuild],
    });
    await queue.add('build', { packageKey: `console-${requestId}`, requestId });
    await eventually(async () => ((await queue.getFailedCount()) > 0 ? true : undefined), 60_000);
    await queue.close();
  });

  after(async () => {
    await Promise.all([gateway, builder].map((s) => s?.stop('SIGKILL')));
    redis?.disconnect();
  });

  it('asks for credentials and refuses wrong ones; the public port does not serve it', async () => {
    const anonymous = await fetch(`${consoleUrl}/api/queues`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.equal((await board('/api/queues', {}, `${PASSWORD}x`)).status, 401);
    for (const path of ['/', '/api/queues'])
      assert.equal((await fetch(`${gateway.url}${path}`)).status, 404, `gateway ${path}`);
  });

  it('lists every queue and the failed build; actions are refused (read-only)', async () => {
    const res = await board(`/api/queues?activeQueue=${QueueName.PackageBuild}&status=failed`);
    assert.equal(res.status, 200);
    const { queues } = (await res.json()) as { queues: BoardQueue[] };
    assert.deepEqual(queues.map((q) => q.name).sort(), Object.values(QueueName).sort());
    assert.ok(queues.every((q) => q.readOnlyMode));
    const buildQueue: string = QueueName.PackageBuild;
    const builds = queues.find((q) => q.name === buildQueue) as BoardQueue;
    const failed = builds.jobs.find((j) => j.failedReason?.includes(requestId));
    assert.ok(failed, `the failed build is listed: ${JSON.stringify(builds.jobs)}`);
    const retry = await board(`/api/queues/${QueueName.PackageBuild}/retry/failed`, {
      method: 'PUT',
    });
    assert.equal(retry.status, 405, 'read-only: retry refused');
  });

  it('shows the maintenance schedulers of the running services (their next occurrence)', async () => {
    const expected: [string, string[]][] = [
      [QueueName.Maintenance, ['sweep-multipart-uploads', 'prune-packages']],
      [QueueName.GatewayMaintenance, ['sweep-media']],
    ];
    for (const [queue, tasks] of expected) {
      const names = await eventually(async () => {
        const res = await board(`/api/queues?activeQueue=${queue}&status=delayed`);
        assert.equal(res.status, 200);
        const { queues } = (await res.json()) as { queues: BoardQueue[] };
        const jobs = (queues.find((q) => q.name === queue)?.jobs ?? []) as {
          id: string;
          name?: string;
        }[];
        const listed = new Set(jobs.map((j) => j.name));
        return tasks.every((t) => listed.has(t)) ? [...listed] : undefined;
      }, 30_000);
      for (const task of tasks) assert.ok(names.includes(task), `${queue}: ${task} is listed`);
    }
  });

  it('renders the queues and the failed job in headless Chromium', () => {
    const page = `${consoleUrl.replace('://', `://${USER}:${PASSWORD}@`)}/queue/${QueueName.PackageBuild}?status=failed`;
    const chromium = spawnSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--virtual-time-budget=15000',
        '--dump-dom',
        page,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    assert.ok(
      !chromium.error,
      `chromium did not run (scripts/stack/ensure-chromium.sh installs it): ${chromium.error?.message}`,
    );
    const dom = chromium.stdout;
    const missing = Object.values(QueueName).filter((q) => !dom.includes(q));
    assert.deepEqual(missing, [], 'every queue is in the menu');
    assert.ok(dom.includes(requestId), 'the failed job (its reason names the request) is shown');
  });

  it('refuses to boot with the console on and no password', async () => {
    const bad = spawnService(
      'api-gateway',
      { ...env, QUEUE_CONSOLE_PORT: String(await freePort()), QUEUE_CONSOLE_PASSWORD: '' },
      await freePort(),
    );
    assert.equal(await bad.exited, 1);
    assert.match(bad.output(), /QUEUE_CONSOLE_PASSWORD/);
  });
});
