// Answers under dependency outages (issue 14, items 2-4): the gateway runs against its own
// throwaway Postgres and Redis and reaches the object store through a proxy, so this suite can
// take each of them away without disturbing the shared stack.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type S3Config, createS3Client } from '@bible/storage';
import {
  type RunningService,
  type TcpProxy,
  type ThrowawayServer,
  apiClient,
  eventually,
  startService,
  startTcpProxy,
  testEnv,
  throwawayPostgres,
  throwawayRedis,
  tokenFor,
} from '@bible/testing';
import { runSeed } from '../../../scripts/dist/seed/run-seed';

const TEXT = { packageType: 'text', languageEntityId: 'eng', textVersionId: 'web' };

interface Operation {
  method: string;
  path: string;
  body?: unknown;
}

/** Every operation of the OpenAPI document, with path parameters filled with plausible values. */
function operations(doc: {
  paths: Record<string, Record<string, { requestBody?: unknown }>>;
}): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const filled = path.replace(/\{(\w+)\}/g, (_, name: string) =>
        /id$/i.test(name) ? '00000000-0000-4000-8000-000000000000' : 'JHN',
      );
      out.push({
        method: method.toUpperCase(),
        path: filled,
        ...(op.requestBody ? { body: {} } : {}),
      });
    }
  }
  return out;
}

describe('dependency outages', { timeout: 5 * 60_000 }, () => {
  let postgres: ThrowawayServer;
  let redis: ThrowawayServer;
  let objectStore: TcpProxy;
  let env: Record<string, string>;
  let gateway: RunningService;
  let db: Client;
  let api: ReturnType<typeof apiClient>;
  let adminToken: string;

  before(async () => {
    [postgres, redis] = await Promise.all([throwawayPostgres(), throwawayRedis()]);
    const stack = testEnv();
    objectStore = await startTcpProxy(Number(new URL(stack.S3_ENDPOINT).port));
    env = {
      ...stack,
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      S3_ENDPOINT: objectStore.url,
      QUEUE_PREFIX: 'faults',
    };
    await runSeed({
      databaseUrl: postgres.url,
      migrate: true,
      s3: {
        S3_ENDPOINT: stack.S3_ENDPOINT,
        S3_REGION: stack.S3_REGION,
        S3_ACCESS_KEY_ID: stack.S3_ACCESS_KEY_ID,
        S3_SECRET_ACCESS_KEY: stack.S3_SECRET_ACCESS_KEY,
        S3_BUCKET: stack.S3_BUCKET,
        S3_FORCE_PATH_STYLE: true,
      },
      log: () => undefined,
    });
    db = new Client({ connectionString: postgres.url });
    // This client dies with the server in the Postgres outage test (the last one).
    db.on('error', () => undefined);
    await db.connect();
    gateway = await startService('api-gateway', env);
    api = apiClient(gateway.url, await tokenFor(env.JWT_SECRET, 'fault-user'));
    adminToken = await tokenFor(env.JWT_SECRET, 'fault-admin', 'admin');
  });

  after(async () => {
    await gateway?.stop('SIGKILL');
    await db?.end().catch(() => undefined);
    await objectStore?.close();
    await Promise.all([postgres?.destroy(), redis?.destroy()]);
  });

  it('download errors carry no ETag and no immutable caching; 200 and 304 do', async () => {
    const bytes = randomBytes(4096);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const objectKey = `packages/faults-${Date.now()}.bible`;
    const s3 = createS3Client({ ...testEnv(), S3_FORCE_PATH_STYLE: true } as unknown as S3Config);
    await s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: objectKey, Body: bytes }));
    s3.destroy();
    const packageId = `eng-faults-${Date.now()}`;
    await db.query(
      `INSERT INTO package_generations (package_id, package_key, package_type, language_entity_id,
         text_version_id, content_revision, status, object_key, size_bytes, content_sha256, manifest, ready_at)
       VALUES ($1, $2, 'text', 'eng', 'web', '1:1', 'ready', $3, $4, $5, '{}', now())`,
      [packageId, `faults-${Date.now()}`, objectKey, bytes.length, sha],
    );
    const url = `/v1/packages/${packageId}/download`;
    const ok = await api.get(url);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get('etag'), `"${sha}"`);
    assert.match(ok.headers.get('cache-control') ?? '', /immutable/);
    const notModified = await api.get(url, { 'if-none-match': `"${sha}"` });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get('etag'), `"${sha}"`);

    const cached = (res: { headers: Headers }) => ({
      etag: res.headers.get('etag'),
      immutable: /immutable/.test(res.headers.get('cache-control') ?? ''),
      lastModified: res.headers.get('last-modified'),
    });
    const unsatisfiable = await api.get(url, { range: 'bytes=999999-' });
    assert.equal(unsatisfiable.status, 416);
    assert.deepEqual(cached(unsatisfiable), { etag: null, immutable: false, lastModified: null });

    await objectStore.cut();
    try {
      const down = await api.get(url);
      assert.equal(down.status, 503, down.text);
      assert.ok(Number(down.headers.get('retry-after')) > 0);
      assert.deepEqual(cached(down), { etag: null, immutable: false, lastModified: null });
      assert.equal(down.headers.get('cache-control'), 'no-store');
    } finally {
      await objectStore.restore();
    }
  });

  it('Redis down: POST /v1/packages answers 503 at once and leaves no row and no job behind', async () => {
    const rows = async () =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM package_requests`)).rows[0].n;
    const before = await rows();
    await redis.stop();
    try {
      const started = Date.now();
      const refused = await api.post<{ error: string }>('/v1/packages', TEXT);
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.body.error, 'SERVICE_UNAVAILABLE');
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      assert.ok(Date.now() - started < 5_500, `answered after ${Date.now() - started} ms`);
      // A burst during the outage is refused too (nothing waits in an offline queue).
      const burst = await Promise.all(
        Array.from({ length: 20 }, () => api.post('/v1/packages', TEXT)),
      );
      assert.deepEqual(new Set(burst.map((r) => r.status)), new Set([503]));
    } finally {
      await redis.start();
    }
    // Longer than any reconnect delay: whatever was going to run later has run by now.
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal(await rows(), before, 'no request row was left behind');
    const client = new Redis(redis.url);
    try {
      assert.deepEqual(await client.keys('faults:package-build:*'), [], 'no job was queued');
      // Once Redis is back the same request is accepted.
      const accepted = await api.post<{ jobId: string }>('/v1/packages', TEXT);
      assert.equal(accepted.status, 202, accepted.text);
      assert.equal(await rows(), before + 1);
      assert.equal(await client.exists(`faults:package-build:${accepted.body.jobId}`), 1);
    } finally {
      client.disconnect();
    }
  });

  it('Postgres down: every operation answers 503 with Retry-After or a 4xx, never 500', async () => {
    const doc = (await api.get<Parameters<typeof operations>[0]>('/v1/openapi.json')).body;
    const all = operations(doc);
    assert.ok(all.length > 30, `${all.length} operations`);
    const admin = apiClient(gateway.url, adminToken);
    await postgres.stop();
    const answers: { op: string; status: number; retryAfter: string | null }[] = [];
    try {
      for (const op of all) {
        const res = await fetch(`${gateway.url}${op.path}`, {
          method: op.method,
          headers: {
            authorization: `Bearer ${adminToken}`,
            ...(op.body !== undefined && { 'content-type': 'application/json' }),
          },
          body: op.body === undefined ? undefined : JSON.stringify(op.body),
        });
        await res.arrayBuffer();
        answers.push({
          op: `${op.method} ${op.path}`,
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
        });
      }
      // Valid requests of the routes that need Postgres.
      for (const path of [
        '/v1/packages/eng-web-text-1/download',
        '/v1/packages/eng-web-text-1',
        '/v1/languages',
        '/v1/packages/keys',
      ]) {
        const res = await admin.get(path);
        answers.push({
          op: `GET ${path}`,
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
        });
        assert.equal(res.status, 503, `GET ${path}: ${res.text}`);
      }
      const post = await admin.post('/v1/packages', TEXT);
      answers.push({
        op: 'POST /v1/packages (valid)',
        status: post.status,
        retryAfter: post.headers.get('retry-after'),
      });
      assert.equal(post.status, 503, post.text);
    } finally {
      await postgres.start();
    }
    const serverErrors = answers.filter((a) => a.status >= 500 && a.status !== 503);
    assert.deepEqual(serverErrors, [], 'no operation answered a server error other than 503');
    // Readiness answers 503 by design (a probe, not an API call).
    const without = answers.filter(
      (a) => a.status === 503 && !(Number(a.retryAfter) > 0) && !a.op.includes('/health/'),
    );
    assert.deepEqual(without, [], 'every 503 carries Retry-After');
    assert.ok(answers.filter((a) => a.status === 503).length >= 10, JSON.stringify(answers));
    assert.match(gateway.output(), /dependency unavailable/);
    assert.doesNotMatch(gateway.output(), /"msg":"request failed"/);
    // The gateway recovers on its own once Postgres is back.
    await eventually(async () => (await admin.get('/v1/languages')).status === 200, 20_000, 250);
  });
});
