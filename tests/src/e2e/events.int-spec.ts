// Event producers (issue 11), end to end: gateway, builder, sync-service and notifier run as
// processes against real Postgres, Redis and MinIO with the WEB seed. Every fact writes its event
// in its own transaction (package.ready, package.failed, content.changed, sync.conflict), a bulk
// edit yields a handful of coalesced events and no Redis growth, GET /v1/admin/events replays
// them in order, and retention deletes old dispatched events only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import {
  type ContentChangedData,
  EVENT_TYPES,
  type EventType,
  type PackageFailedData,
  type PackageReadyData,
  type SyncConflictData,
  decodeCursor,
  eventDataSchemas,
  pruneEvents,
  queueDefaults,
  QueueName,
} from '@bible/common';
import {
  type RunningService,
  type TcpProxy,
  apiClient,
  eventually,
  startOtlpReceiver,
  startService,
  startTcpProxy,
  tokenFor,
} from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

const TEXT = { packageType: 'text', languageEntityId: 'eng', textVersionId: 'web' };
const AUDIO = { packageType: 'audio', languageEntityId: 'eng', audioVersionId: 'web-audio-john' };
const USER = 'events-user';

interface JobStatus {
  jobId: string;
  status: string;
  packageId?: string;
  error?: string;
}

interface StoredEvent<D> {
  id: string;
  user_id: string | null;
  trace: { traceparent?: string } | null;
  data: D;
}

interface FeedPage {
  items: { id: string; type: EventType; timestamp: string; data: Record<string, unknown> }[];
  nextCursor: string | null;
}

describe('event producers and the event feed', { timeout: 10 * 60_000 }, () => {
  let env: Record<string, string>;
  let db: Pool;
  let redis: Redis;
  let proxy: TcpProxy;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const services: RunningService[] = [];
  let gateway: RunningService;
  let api: ReturnType<typeof apiClient>;
  let prefix: string;

  const waitForJob = (jobId: string, timeoutMs = 120_000) =>
    eventually(
      async () => {
        const res = await api.get<JobStatus>(`/v1/packages/jobs/${jobId}`);
        assert.equal(res.status, 200, res.text);
        return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
      },
      timeoutMs,
      250,
    );

  async function events<D>(type: EventType, where = 'true', args: unknown[] = []) {
    const { rows } = await db.query<StoredEvent<D>>(
      `SELECT id, user_id, trace, data FROM events WHERE type = '${type}' AND (${where})
        ORDER BY txid, seq`,
      args,
    );
    for (const r of rows) {
      const parsed = eventDataSchemas[type].safeParse(r.data);
      assert.ok(parsed.success, `${type} data matches its schema: ${JSON.stringify(r.data)}`);
    }
    return rows;
  }

  /** Keys under this suite's queue prefix (queues, rate limits...). */
  async function redisKeys(match = `${prefix}:*`): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1_000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  }

  /** Waits until the relay has passed the newest readable change. */
  async function relayCaughtUp(): Promise<void> {
    await eventually(
      async () => {
        const { rows } = await db.query<{ ok: boolean }>(
          `SELECT coalesce((s.txid, s.change_id) >= (h.txid, h.id), false) AS ok
             FROM (SELECT txid, id FROM change_log WHERE txid < change_log_safe_xmin()
                    ORDER BY txid DESC, id DESC LIMIT 1) h
             LEFT JOIN sync_relay_state s ON s.name = 'change-events'`,
        );
        return rows[0]?.ok ? true : undefined;
      },
      60_000,
      100,
    );
  }

  before(async () => {
    env = await seededTestDatabase();
    prefix = env.QUEUE_PREFIX;
    db = new Pool({ connectionString: env.DATABASE_URL, max: 4 });
    redis = new Redis(env.REDIS_URL);
    // What the relay used to leave behind: a change-events queue full of unconsumed jobs.
    const leftover = new Queue('change-events', { connection: redis, prefix });
    await leftover.obliterate({ force: true });
    await leftover.addBulk(
      Array.from({ length: 500 }, (_, i) => ({
        name: 'change',
        data: { position: `1:${i}`, table: 'verse_texts', recordId: `v${i}` },
        opts: { jobId: `cl-1-${i}` },
      })),
    );
    await leftover.close();
    assert.ok((await redisKeys(`${prefix}:change-events:*`)) >= 500);

    proxy = await startTcpProxy(Number(new URL(env.S3_ENDPOINT).port));
    // Traces are only recorded with an exporter: events carry the trace of their cause.
    otlp = await startOtlpReceiver();
    const serviceEnv = {
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
      RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
    };
    [gateway] = await Promise.all([
      startService('api-gateway', serviceEnv),
      startService('package-builder', { ...serviceEnv, S3_ENDPOINT: proxy.url }),
      startService('sync-service', serviceEnv),
    ]).then((started) => {
      services.push(...started);
      return started;
    });
    api = apiClient(gateway.url, await tokenFor(env.JWT_SECRET, USER));
  });

  after(async () => {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    await proxy?.close();
    await otlp?.close();
    redis?.disconnect();
    await db?.end();
  });

  it('the relay removes the retired change-events queue from Redis', async () => {
    await eventually(
      async () => ((await redisKeys(`${prefix}:change-events:*`)) === 0 ? true : undefined),
      30_000,
      100,
    );
  });

  let johnPackageId = '';

  /** A W3C traceparent for a request, and the trace id events it causes must carry. */
  const traceOf = (n: number) => {
    const traceId = n.toString(16).padStart(32, 'e');
    return { traceId, header: { traceparent: `00-${traceId}-${'2'.repeat(16)}-01` } };
  };

  it('a build writes exactly one package.ready with the package, its revision and requester', async () => {
    const trace = traceOf(1);
    const res = await api.post<{ jobId: string }>(
      '/v1/packages',
      { ...TEXT, books: ['John'] },
      trace.header,
    );
    assert.equal(res.status, 202, res.text);
    const job = await waitForJob(res.body.jobId);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    johnPackageId = job.packageId as string;

    const ready = await events<PackageReadyData>('package.ready');
    assert.equal(ready.length, 1);
    const { rows: gen } = await db.query<{
      package_key: string;
      size_bytes: string;
      content_sha256: string;
      content_revision: string;
    }>(
      `SELECT package_key, size_bytes::text, content_sha256, content_revision
         FROM package_generations WHERE package_id = $1`,
      [johnPackageId],
    );
    const { rows: requests } = await db.query<{ id: string }>(
      `SELECT id FROM package_requests WHERE job_id = $1`,
      [res.body.jobId],
    );
    assert.deepEqual(ready[0].data, {
      packageId: johnPackageId,
      packageKey: gen[0].package_key,
      type: 'text',
      part: null,
      partCount: null,
      sizeBytes: Number(gen[0].size_bytes),
      contentSha256: gen[0].content_sha256,
      contentRevision: gen[0].content_revision,
      requestIds: requests.map((r) => r.id),
      requestedBy: [USER],
    });
    assert.equal(ready[0].user_id, USER);
    assert.match(
      ready[0].trace?.traceparent ?? '',
      new RegExp(`^00-${trace.traceId}-[0-9a-f]{16}-01$`),
      'the event continues the trace of the request',
    );

    // A cache hit publishes nothing new.
    const again = await api.post('/v1/packages', { ...TEXT, books: ['John'] });
    assert.equal(again.status, 200, again.text);
    assert.equal((await events('package.ready')).length, 1);
  });

  it('a 10,000-verse bulk edit yields a few content.changed events, no Redis growth, and still invalidates packages', async () => {
    await relayCaughtUp();
    const { rows: headRows } = await db.query<{ seq: string | null }>(
      `SELECT max(seq)::text AS seq FROM events`,
    );
    const sinceSeq = headRows[0].seq ?? '0';
    const keysBefore = await redisKeys();

    const { rows: edited } = await db.query<{ n: number; books: string[] }>(
      `WITH target AS (
         SELECT vt.id, ch.book_id FROM verse_texts vt
           JOIN verses v ON v.id = vt.verse_id JOIN chapters ch ON ch.id = v.chapter_id
          WHERE vt.text_version_id = 'web' ORDER BY vt.id LIMIT 10000),
       upd AS (
         UPDATE verse_texts vt SET verse_text = vt.verse_text || ' ' FROM target t
          WHERE vt.id = t.id RETURNING t.book_id)
       SELECT count(*)::int AS n, array_agg(DISTINCT book_id ORDER BY book_id) AS books FROM upd`,
    );
    assert.equal(edited[0].n, 10_000);
    await relayCaughtUp();

    const changed = await events<ContentChangedData>(
      'content.changed',
      `seq > $1 AND data->>'versionId' = 'web'`,
      [sinceSeq],
    );
    assert.ok(changed.length >= 1 && changed.length <= 5, `${changed.length} events`);
    assert.equal(
      changed.reduce((n, e) => n + e.data.changeCount, 0),
      10_000,
    );
    assert.equal(
      changed.reduce((n, e) => n + (e.data.counts.verse_texts?.updated ?? 0), 0),
      10_000,
    );
    assert.deepEqual(
      [...new Set(changed.flatMap((e) => e.data.bookIds))].sort(),
      edited[0].books,
      'the books of the edited verses',
    );
    for (const e of changed) {
      assert.equal(e.data.scope, 'text');
      assert.ok(decodeCursor(e.data.fromRevision) && decodeCursor(e.data.toRevision));
    }
    const keysAfter = await redisKeys();
    assert.ok(keysAfter <= keysBefore, `Redis keys ${keysBefore} -> ${keysAfter}`);
    console.log(
      `bulk edit: 10000 verses -> ${changed.length} content.changed event(s); Redis keys under ${prefix}: ${keysBefore} -> ${keysAfter}`,
    );

    const { rows: stale } = await db.query<{ status: string }>(
      `SELECT status FROM package_generations WHERE package_id = $1`,
      [johnPackageId],
    );
    assert.equal(stale[0].status, 'stale', 'the John text package was invalidated');
  });

  it('a build that cannot succeed writes package.failed with the reason at once', async () => {
    await db.query(`
      INSERT INTO media_files (id, language_entity_id, audio_version_id, remote_path, file_size, duration_seconds,
                               sha256, format, upload_status, publish_status, chapter_id)
      VALUES ('ghost-events', 'eng', 'web-audio-john', 'media/web-audio-john/ghost-events.mp3', 1000, 10,
              repeat('b', 64), 'mp3', 'completed', 'published', 'john-21')`);
    try {
      const res = await api.post<{ jobId: string }>('/v1/packages', { ...AUDIO, books: ['John'] });
      assert.equal(res.status, 202, res.text);
      const job = await waitForJob(res.body.jobId);
      assert.equal(job.status, 'failed');
      const failed = await eventually(async () => {
        const rows = await events<PackageFailedData>('package.failed', `data->>'jobId' = $1`, [
          res.body.jobId,
        ]);
        return rows.length > 0 ? rows : undefined;
      });
      assert.equal(failed.length, 1);
      const { rows: requests } = await db.query<{ id: string; error: string }>(
        `SELECT id, error FROM package_requests WHERE job_id = $1`,
        [res.body.jobId],
      );
      assert.deepEqual(failed[0].data, {
        packageKey: failed[0].data.packageKey,
        jobId: res.body.jobId,
        requestIds: requests.map((r) => r.id),
        requestedBy: [USER],
        reason: requests[0].error,
        errorCode: 'AUDIO_MISSING',
        // Permanent: no retry after it (an earlier attempt may have failed for another reason).
        attempts: Number(await redis.hget(`${prefix}:package-build:${res.body.jobId}`, 'atm')),
      });
      assert.match(failed[0].data.reason, /ghost-events/);
      assert.equal(failed[0].user_id, USER);
    } finally {
      await db.query(`DELETE FROM media_files WHERE id = 'ghost-events'`);
    }
  });

  it('a build that keeps failing writes package.failed after its last attempt only', async () => {
    const attempts = queueDefaults[QueueName.PackageBuild].attempts as number;
    await proxy.cut(); // the builder's object store is gone: every upload fails (retryable)
    try {
      const res = await api.post<{ jobId: string }>('/v1/packages', { ...TEXT, books: ['Jude'] });
      assert.equal(res.status, 202, res.text);
      const forJob = () =>
        events<PackageFailedData>('package.failed', `data->>'jobId' = $1`, [res.body.jobId]);
      let sawRetry = false;
      let sawActive = false;
      let early = false;
      const job = await eventually(
        async () => {
          // Events first: the event and the failed status commit together, so an event seen
          // before a status that is not yet failed would be an early one.
          const seen = (await forJob()).length;
          const status = await api.get<JobStatus>(`/v1/packages/jobs/${res.body.jobId}`);
          if (status.body.status === 'failed') return status.body;
          // Between attempts the request is queued again.
          if (status.body.status === 'active') sawActive = true;
          else if (sawActive && status.body.status === 'queued') sawRetry = true;
          if (seen > 0) early = true;
          return undefined;
        },
        300_000,
        200,
      );
      assert.equal(job.status, 'failed');
      assert.ok(sawRetry, 'the build was retried');
      assert.equal(early, false, 'no event while attempts remain');
      const failed = await eventually(async () => {
        const rows = await forJob();
        return rows.length > 0 ? rows : undefined;
      });
      assert.equal(failed.length, 1);
      assert.equal(failed[0].data.attempts, attempts);
      assert.equal(failed[0].data.errorCode, 'BUILD_ERROR');
      assert.ok(failed[0].data.reason.length > 0);
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal((await forJob()).length, 1, 'the failed handler adds no second event');
    } finally {
      await proxy.restore();
    }
  });

  it('a push that creates a conflict writes sync.conflict for the editor', async () => {
    const editor = apiClient(
      gateway.url,
      await tokenFor(env.JWT_SECRET, 'events-editor', 'editor'),
    );
    const session = await editor.post<{ sessionId: string }>('/v1/sync/sessions', {
      deviceId: 'tablet-7',
    });
    assert.equal(session.status, 201, session.text);
    const { rows } = await db.query<{ id: string; version: number }>(
      `SELECT id, version FROM verse_texts WHERE text_version_id = 'web' ORDER BY id DESC LIMIT 1`,
    );
    const record = rows[0];
    const { rows: updated } = await db.query<{ updated_at: Date }>(
      `UPDATE verse_texts SET verse_text = 'server edit' WHERE id = $1 RETURNING updated_at`,
      [record.id],
    );
    await new Promise((r) => setTimeout(r, 500));
    const trace = traceOf(2);
    const push = await editor.post<{ results: { result: string; conflictId?: string }[] }>(
      '/v1/sync/push',
      {
        sessionId: session.body.sessionId,
        clientId: 'tablet-7-client',
        mutations: [
          {
            mutationId: 'conflicting-edit',
            table: 'verse_texts',
            recordId: record.id,
            operation: 'UPDATE',
            data: { verse_text: 'client edit' },
            baseVersion: record.version,
            clientUpdatedAt: new Date(updated[0].updated_at.getTime() + 300).toISOString(),
          },
        ],
      },
      trace.header,
    );
    assert.equal(push.status, 200, push.text);
    assert.equal(push.body.results[0].result, 'conflict', push.text);
    const conflicts = await events<SyncConflictData>('sync.conflict');
    assert.equal(conflicts.length, 1);
    assert.deepEqual(conflicts[0].data, {
      conflictId: push.body.results[0].conflictId,
      table: 'verse_texts',
      recordId: record.id,
      userId: 'events-editor',
      deviceId: 'tablet-7',
      sessionId: session.body.sessionId,
    });
    assert.equal(conflicts[0].user_id, 'events-editor');
    assert.match(conflicts[0].trace?.traceparent ?? '', new RegExp(`^00-${trace.traceId}-`));
  });

  describe('GET /v1/admin/events', () => {
    let admin: ReturnType<typeof apiClient>;

    before(async () => {
      admin = apiClient(gateway.url, await tokenFor(env.JWT_SECRET, 'ops', 'admin'));
    });

    it('pages through every event in feed order with nextCursor', async () => {
      const { rows: all } = await db.query<{ id: string; type: string; created_at: Date }>(
        `SELECT id, type, created_at FROM events WHERE txid < change_log_safe_xmin() ORDER BY txid, seq`,
      );
      assert.ok(all.length >= 5, `${all.length} events so far`);
      const seen: FeedPage['items'] = [];
      let after: string | null = null;
      for (let page = 0; page < 100; page++) {
        const res: { status: number; text: string; body: FeedPage } = await admin.get<FeedPage>(
          `/v1/admin/events?limit=2${after ? `&after=${after}` : ''}`,
        );
        assert.equal(res.status, 200, res.text);
        assert.ok(res.body.items.length <= 2);
        seen.push(...res.body.items);
        if (res.body.items.length === 0) {
          assert.equal(res.body.nextCursor, after, 'an empty page keeps the cursor');
          break;
        }
        after = res.body.nextCursor;
      }
      assert.deepEqual(
        seen.map((e) => e.id),
        all.map((e) => e.id),
      );
      assert.deepEqual(
        seen.map((e) => [e.type, e.timestamp]),
        all.map((e) => [e.type, e.created_at.toISOString()]),
      );
    });

    it('filters by types, and a service token may read it', async () => {
      const service = apiClient(
        gateway.url,
        await tokenFor(env.JWT_SECRET, 'search-indexer', 'service'),
      );
      // Builds of earlier tests may still record events: the page holds every event of those
      // types recorded before the request and nothing that is not in the table after it.
      const ids = async () =>
        (
          await db.query<{ id: string }>(
            `SELECT id FROM events WHERE type IN ('package.ready', 'sync.conflict')`,
          )
        ).rows.map((r) => r.id);
      const before = await ids();
      const res = await service.get<FeedPage>(
        '/v1/admin/events?types=package.ready,sync.conflict&limit=1000',
      );
      assert.equal(res.status, 200, res.text);
      const after = new Set(await ids());
      const listed = new Set(res.body.items.map((e) => e.id));
      assert.deepEqual(
        before.filter((id) => !listed.has(id)),
        [],
        'every earlier event is listed',
      );
      assert.ok(
        [...listed].every((id) => after.has(id)),
        'only events of those types are listed',
      );
      assert.ok(res.body.items.every((e) => ['package.ready', 'sync.conflict'].includes(e.type)));
      assert.ok(res.body.items.some((e) => e.type === 'sync.conflict'));
    });

    it('is for admins and services only', async () => {
      for (const role of ['user', 'editor'] as const) {
        const other = apiClient(gateway.url, await tokenFor(env.JWT_SECRET, `u-${role}`, role));
        const res = await other.get<{ error: string }>('/v1/admin/events');
        assert.equal(res.status, 403, `${role}: ${res.text}`);
        assert.equal(res.body.error, 'FORBIDDEN');
      }
      assert.equal((await apiClient(gateway.url).get('/v1/admin/events')).status, 401);
    });

    it('answers bad input with 400 and field details', async () => {
      const cases: [string, string][] = [
        ['after=not-a-cursor', 'query.after'],
        [`after=${Buffer.from('c1:1:2').toString('base64url')}`, 'query.after'],
        ['types=package.ready,package.exploded', 'query.types.1'],
        ['types=', 'query.types.0'],
        ['limit=0', 'query.limit'],
        ['limit=1001', 'query.limit'],
        ['limit=ten', 'query.limit'],
        ['colour=blue', 'query'],
      ];
      for (const [query, field] of cases) {
        const res = await admin.get<{ error: string; details: { field: string }[] }>(
          `/v1/admin/events?${query}`,
        );
        assert.equal(res.status, 400, `${query}: ${res.text}`);
        assert.equal(res.body.error, 'VALIDATION_FAILED');
        assert.ok(
          res.body.details.some((d) => d.field === field),
          `${query}: ${JSON.stringify(res.body.details)}`,
        );
      }
    });

    it('is in the OpenAPI document, with a webhook per event type', async () => {
      const doc = (await (await fetch(`${gateway.url}/v1/openapi.json`)).json()) as {
        paths: Record<string, Record<string, unknown>>;
        webhooks: Record<string, { post: { requestBody: unknown } }>;
      };
      assert.ok(doc.paths['/v1/admin/events']?.get);
      assert.deepEqual(Object.keys(doc.webhooks).sort(), [...EVENT_TYPES].sort());
      assert.match(JSON.stringify(doc.webhooks['content.changed'].post.requestBody), /bookIds/);
    });
  });

  describe('retention', () => {
    const insertEvent = async (ageDays: number, dispatched: boolean) => {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO events (type, data, created_at, dispatched_at, push_dispatched_at)
         VALUES ('sync.conflict', '{}', now() - make_interval(days => $1),
                 CASE WHEN $2 THEN now() - make_interval(days => $1) END,
                 CASE WHEN $2 THEN now() - make_interval(days => $1) END) RETURNING id`,
        [ageDays, dispatched],
      );
      return rows[0].id;
    };
    const exists = async (id: string) =>
      (await db.query(`SELECT 1 FROM events WHERE id = $1`, [id])).rowCount === 1;

    it('deletes old dispatched events in bounded batches, never undispatched ones', async () => {
      const old = await Promise.all([1, 2, 3].map(() => insertEvent(40, true)));
      const undispatched = await insertEvent(40, false);
      const recent = await insertEvent(10, true);
      const removed = await pruneEvents(db, { retentionDays: 30, batchSize: 2, maxBatches: 10 });
      assert.ok(removed >= 3, `${removed} removed`);
      for (const id of old) assert.equal(await exists(id), false);
      assert.equal(await exists(undispatched), true, 'undispatched events are never pruned');
      assert.equal(await exists(recent), true);
      await db.query(`DELETE FROM events WHERE id = $1`, [undispatched]);
    });

    it('the notifier runs it as a job scheduler', async () => {
      const old = await insertEvent(3, true);
      const recent = await insertEvent(0, true);
      services.push(
        await startService('notifier', {
          ...env,
          EVENTS_RETENTION_DAYS: '2',
          EVENTS_PRUNE_INTERVAL_MS: '1000',
        }),
      );
      await eventually(async () => ((await exists(old)) ? undefined : true), 30_000, 200);
      assert.equal(await exists(recent), true);
    });
  });
});
