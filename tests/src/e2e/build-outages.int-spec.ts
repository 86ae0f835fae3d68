// Builds through dependency outages (issue 14, item 6): a 20 s Redis outage in the middle of a
// build costs no second run (the lock outlives it), and a 30 s object-store outage costs retries
// but not the build (the retry budget outlasts it). Redis and the object store are reached
// through proxies this suite cuts, so the shared stack is never disturbed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { QueueName } from '@bible/common';
import {
  type RunningService,
  type TcpProxy,
  type ThrowawayServer,
  apiClient,
  eventually,
  startService,
  startTcpProxy,
  throwawayRedis,
  tokenFor,
} from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

const AUDIO = { packageType: 'audio', languageEntityId: 'eng', audioVersionId: 'web-audio-john' };

describe('a build through an outage', { timeout: 8 * 60_000 }, () => {
  let env: Record<string, string>;
  let redis: ThrowawayServer;
  let redisProxy: TcpProxy;
  let s3Proxy: TcpProxy;
  let db: Client;
  const running: RunningService[] = [];

  before(async () => {
    env = await seededTestDatabase();
    redis = await throwawayRedis();
    redisProxy = await startTcpProxy(redis.port);
    s3Proxy = await startTcpProxy(Number(new URL(env.S3_ENDPOINT).port));
    env = {
      ...env,
      REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
      S3_ENDPOINT: s3Proxy.url,
      LOG_LEVEL: 'info',
    };
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop('SIGKILL')));
    await Promise.all([redisProxy?.close(), s3Proxy?.close()]);
    await redis?.destroy();
    await db?.end();
  });

  /** Starts a gateway and a builder on their own queue namespace, requests a build, waits for it to run. */
  const startBuild = async (prefix: string) => {
    const serviceEnv = { ...env, QUEUE_PREFIX: prefix };
    const [gateway, builder] = await Promise.all([
      startService('api-gateway', serviceEnv),
      startService('package-builder', serviceEnv),
    ]);
    running.push(gateway, builder);
    const api = apiClient(gateway.url, await tokenFor(env.JWT_SECRET, `outage-${prefix}`));
    // Each test builds anew: drop what an earlier test published for the same request.
    await db.query(`DELETE FROM package_generations WHERE package_type = 'audio'`);
    await db.query(`DELETE FROM package_requests WHERE params->>'packageType' = 'audio'`);
    const res = await api.post<{ jobId: string }>('/v1/packages', AUDIO);
    assert.equal(res.status, 202, res.text);
    await eventually(
      async () =>
        (await api.get<{ status: string }>(`/v1/packages/jobs/${res.body.jobId}`)).body.status ===
        'active',
      60_000,
      20,
    );
    const finished = () =>
      eventually(
        async () => {
          const job = await api.get<{ status: string }>(`/v1/packages/jobs/${res.body.jobId}`);
          return ['completed', 'failed'].includes(job.body.status) ? job.body : undefined;
        },
        240_000,
        250,
      );
    return { jobId: res.body.jobId, builder, finished, prefix };
  };

  const bullJob = async (prefix: string, jobId: string) => {
    const queue = new Queue(QueueName.PackageBuild, {
      prefix,
      connection: { url: redis.url },
    });
    try {
      const job = await queue.getJob(jobId);
      assert.ok(job, 'the job is still in the queue');
      return { attemptsMade: job.attemptsMade, stalledCounter: job.stalledCounter };
    } finally {
      await queue.close();
    }
  };

  it('survives a 20 s Redis outage without being run twice', async () => {
    const build = await startBuild('outage-redis');
    await redisProxy.cut();
    await new Promise((r) => setTimeout(r, 20_000));
    await redisProxy.restore();
    const job = await build.finished();
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.deepEqual(await bullJob(build.prefix, build.jobId), {
      attemptsMade: 1,
      stalledCounter: 0,
    });
    const output = build.builder.output();
    assert.equal(output.match(/package part uploaded/g)?.length, 1, 'built exactly once');
    assert.doesNotMatch(output, /Missing lock|lost the job lock|could not renew lock/);
  });

  it('survives a 30 s object-store outage without failing', async () => {
    const build = await startBuild('outage-s3');
    const started = Date.now();
    await s3Proxy.cut();
    await new Promise((r) => setTimeout(r, 30_000));
    await s3Proxy.restore();
    const job = await build.finished();
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.ok(Date.now() - started >= 30_000);
    const { attemptsMade } = await bullJob(build.prefix, build.jobId);
    assert.ok(attemptsMade > 1, `the outage cost retries (${attemptsMade} attempts)`);
  });
});
