// Webhook delivery (issue 11), end to end: gateway, builder and notifier run as processes against
// the real Postgres, Redis and MinIO; a local receiver on loopback plays the subscriber, and every
// delivery is verified with the `standardwebhooks` package (an implementation independent of ours).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { recordEvents } from '@bible/common';
import {
  type ReceivedWebhook,
  type Reply,
  type RunningService,
  type WebhookReceiver,
  apiClient,
  eventually,
  startService,
  startWebhookReceiver,
  tokenFor,
} from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

interface Subscription {
  id: string;
  url: string;
  eventTypes: string[];
  secret: string;
  enabled: boolean;
  disabledReason: string | null;
}
interface Delivery {
  id: string;
  messageId: string;
  eventType: string;
  status: string;
  attempts: {
    attempt: number;
    statusCode: number | null;
    durationMs: number;
    error: string | null;
    nextAttemptAt: string | null;
  }[];
}
interface ErrorBody {
  details: { field: string; message: string }[];
}

/** Short so retries happen within a test: immediately, 300 ms, 300 ms, then 1 s apart. */
const SCHEDULE = '0,300ms,300ms,1s,1s,1s';
const CONCURRENCY = 32;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

const failedData = (packageKey: string) => ({
  packageKey,
  jobId: `job-${packageKey}`,
  requestIds: [],
  requestedBy: [],
  reason: 'test failure',
  errorCode: 'BUILD_FAILED',
  attempts: 1,
});

const verify = (secret: string, request: ReceivedWebhook) =>
  new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as {
    type: string;
    timestamp: string;
    data: Record<string, unknown>;
  };

describe('webhook delivery', { timeout: 10 * 60_000 }, () => {
  let env: Record<string, string>;
  let notifierEnv: Record<string, string>;
  let gateway: RunningService;
  let builder: RunningService;
  let notifier: RunningService;
  let receiver: WebhookReceiver;
  let api: ReturnType<typeof apiClient>;
  let db: Client;

  const subscribe = async (path: string, eventTypes: string[]) => {
    const res = await api.post<Subscription>('/v1/admin/webhooks', {
      url: `${receiver.url}${path}`,
      eventTypes,
      description: `e2e ${path}`,
    });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };

  const waitForJob = (jobId: string) =>
    eventually(
      async () => {
        const res = await api.get<{ status: string }>(`/v1/packages/jobs/${jobId}`);
        return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
      },
      180_000,
      250,
    );

  before(async () => {
    env = await seededTestDatabase();
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    receiver = await startWebhookReceiver();
    notifierEnv = {
      ...env,
      WEBHOOK_RETRY_SCHEDULE: SCHEDULE,
      WEBHOOK_CONCURRENCY: String(CONCURRENCY),
      WEBHOOK_TIMEOUT_MS: '3000',
      WEBHOOK_DISABLE_AFTER: '4s',
      WEBHOOK_RECOVERY_AFTER_MS: '2000',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
    };
    [gateway, builder, notifier] = await Promise.all([
      startService('api-gateway', {
        ...env,
        RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
        RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
      }),
      startService('package-builder', env),
      startService('notifier', notifierEnv),
    ]);
    api = apiClient(gateway.url, await tokenFor(env.JWT_SECRET, 'e2e-admin', 'admin'));
  });

  after(async () => {
    await Promise.all([gateway, builder, notifier].map((s) => s?.stop('SIGKILL')));
    await receiver?.close();
    await db?.end();
  });

  describe('registration answers 4xx naming the field', () => {
    const cases: [string, unknown, string, RegExp][] = [
      [
        'not a URL',
        { url: 'not a url', eventTypes: ['package.ready'] },
        'body.url',
        /http or https URL/,
      ],
      [
        'ftp URL',
        { url: 'ftp://example.com/x', eventTypes: ['package.ready'] },
        'body.url',
        /http or https/,
      ],
      [
        'unknown event type',
        { url: 'https://example.com/h', eventTypes: ['package.ready', 'package.exploded'] },
        'body.eventTypes.1',
        /./,
      ],
      ['no event types', { url: 'https://example.com/h', eventTypes: [] }, 'body.eventTypes', /./],
      [
        'private address',
        { url: 'http://10.1.2.3/hook', eventTypes: ['package.ready'] },
        'body.url',
        /10\.1\.2\.3, a private address/,
      ],
      [
        'cloud metadata',
        { url: 'http://169.254.169.254/latest/meta-data', eventTypes: ['package.ready'] },
        'body.url',
        /cloud metadata/,
      ],
      [
        'IPv4-mapped private',
        { url: 'http://[::ffff:192.168.1.1]/', eventTypes: ['package.ready'] },
        'body.url',
        /private/,
      ],
      [
        'unknown field',
        { url: 'https://example.com/h', eventTypes: ['package.ready'], secret: 'mine' },
        'body',
        /secret/,
      ],
    ];
    for (const [name, body, field, message] of cases) {
      it(name, async () => {
        const res = await api.post<ErrorBody>('/v1/admin/webhooks', body);
        assert.equal(res.status, 400, res.text);
        const detail = res.body.details.find((d) => d.field === field);
        assert.ok(detail, `a detail for ${field}: ${res.text}`);
        assert.match(detail.message + res.text, message);
      });
    }

    it('admin only; unknown ids are 404; a malformed id is 400', async () => {
      const user = apiClient(gateway.url, await tokenFor(env.JWT_SECRET, 'e2e-user', 'user'));
      assert.equal((await user.get('/v1/admin/webhooks')).status, 403);
      assert.equal(
        (await api.get('/v1/admin/webhooks/6f1c1d5e-7f67-4d0a-9d2c-6d0f2b8d2a11')).status,
        404,
      );
      const bad = await api.get<ErrorBody>('/v1/admin/webhooks/nope');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.details[0].field, 'param.id');
    });

    it('loopback is refused when it is not allowlisted (gateway without WEBHOOK_ALLOWED_CIDRS)', async () => {
      const strict = await startService('api-gateway', { ...env, WEBHOOK_ALLOWED_CIDRS: '' });
      try {
        const strictApi = apiClient(
          strict.url,
          await tokenFor(env.JWT_SECRET, 'e2e-admin', 'admin'),
        );
        for (const url of [
          `${receiver.url}/x`,
          `http://localhost:${receiver.port}/x`,
          `http://[::1]:${receiver.port}/x`,
        ]) {
          const res = await strictApi.post<ErrorBody>('/v1/admin/webhooks', {
            url,
            eventTypes: ['package.ready'],
          });
          assert.equal(res.status, 400, `${url}: ${res.text}`);
          assert.equal(res.body.details[0].field, 'body.url');
          assert.match(res.body.details[0].message, /a loopback address/);
        }
        // The allowlisting gateway accepts the same URL.
        const ok = await api.post<Subscription>('/v1/admin/webhooks', {
          url: `${receiver.url}/x`,
          eventTypes: ['package.ready'],
        });
        assert.equal(ok.status, 201, ok.text);
        assert.equal((await api.delete(`/v1/admin/webhooks/${ok.body.id}`)).status, 204);
      } finally {
        await strict.stop('SIGKILL');
      }
    });
  });

  it('manages subscriptions: secret shown once, list without secrets, patch, pagination', async () => {
    const a = await subscribe('/manage-a', ['sync.conflict']);
    assert.match(a.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const b = await subscribe('/manage-b', ['content.changed', 'sync.conflict']);
    const page1 = await api.get<{ items: Subscription[]; nextCursor: string | null }>(
      '/v1/admin/webhooks?limit=1',
    );
    assert.equal(page1.status, 200);
    assert.equal(page1.body.items.length, 1);
    assert.ok(page1.body.nextCursor);
    assert.ok(!page1.text.includes('whsec_'), 'lists never show secrets');
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Subscription[]; nextCursor: string | null } } = await api.get(
        `/v1/admin/webhooks?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      all.push(...res.body.items.map((s) => s.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    assert.ok(all.includes(a.id) && all.includes(b.id));
    assert.equal(new Set(all).size, all.length, 'no subscription twice across pages');
    const got = await api.get<Subscription>(`/v1/admin/webhooks/${a.id}`);
    assert.equal(got.body.url, `${receiver.url}/manage-a`);
    assert.equal((got.body as { secret?: string }).secret, undefined);
    const patched = await api.patch<Subscription>(`/v1/admin/webhooks/${a.id}`, {
      enabled: false,
      eventTypes: ['package.ready'],
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.enabled, false);
    assert.deepEqual(patched.body.eventTypes, ['package.ready']);
    const badPatch = await api.patch<ErrorBody>(`/v1/admin/webhooks/${a.id}`, {
      url: 'http://192.168.0.10/',
    });
    assert.equal(badPatch.status, 400);
    assert.equal(badPatch.body.details[0].field, 'body.url');
    for (const s of [a, b])
      assert.equal((await api.delete(`/v1/admin/webhooks/${s.id}`)).status, 204);
    assert.equal((await api.get(`/v1/admin/webhooks/${a.id}`)).status, 404);
  });

  it('package.ready and package.failed reach the receiver, signed', async () => {
    const sub = await subscribe('/packages', ['package.ready', 'package.failed']);
    const ready = await api.post<{ jobId: string }>('/v1/packages', {
      packageType: 'text',
      languageEntityId: 'eng',
      textVersionId: 'web',
      books: ['Ruth'],
    });
    assert.equal(ready.status, 202, ready.text);
    await db.query(`
      INSERT INTO media_files (id, language_entity_id, audio_version_id, remote_path, file_size, duration_seconds, sha256, format,
                               upload_status, publish_status, chapter_id)
      VALUES ('ghost-webhook', 'eng', 'web-audio-john', 'media/web-audio-john/ghost-webhook.mp3', 1000, 10, repeat('b', 64), 'mp3',
              'completed', 'published', 'john-21')`);
    const failed = await api.post<{ jobId: string }>('/v1/packages', {
      packageType: 'audio',
      languageEntityId: 'eng',
      audioVersionId: 'web-audio-john',
      books: ['John'],
    });
    assert.equal(failed.status, 202, failed.text);
    assert.equal((await waitForJob(ready.body.jobId)).status, 'completed');
    assert.equal((await waitForJob(failed.body.jobId)).status, 'failed');
    await db.query(`DELETE FROM media_files WHERE id = 'ghost-webhook'`);

    const [readyHook, failedHook] = await eventually(async () => {
      const got = receiver.on('/packages');
      const r = got.find((x) => verify(sub.secret, x).type === 'package.ready');
      const f = got.find((x) => verify(sub.secret, x).type === 'package.failed');
      return r && f ? [r, f] : undefined;
    }, 60_000);
    const readyBody = verify(sub.secret, readyHook);
    assert.equal(typeof readyBody.data.packageId, 'string');
    assert.equal(readyBody.data.sizeBytes && typeof readyBody.data.sizeBytes, 'number');
    assert.match(String(readyBody.data.contentSha256), /^[0-9a-f]{64}$/);
    const failedBody = verify(sub.secret, failedHook);
    assert.match(JSON.stringify(failedBody.data), /ghost-webhook/);
    // webhook-id is the stored event's id.
    for (const [hook, type] of [
      [readyHook, 'package.ready'],
      [failedHook, 'package.failed'],
    ] as const) {
      const { rowCount } = await db.query(`SELECT 1 FROM events WHERE id = $1 AND type = $2`, [
        hook.headers['webhook-id'],
        type,
      ]);
      assert.equal(rowCount, 1, `${type}: webhook-id is an event id`);
      assert.equal(hook.headers['content-type'], 'application/json');
    }
    const deliveries = await api.get<{ items: Delivery[] }>(
      `/v1/admin/webhooks/${sub.id}/deliveries?status=delivered`,
    );
    assert.equal(deliveries.status, 200, deliveries.text);
    assert.deepEqual(deliveries.body.items.map((d) => d.eventType).sort(), [
      'package.failed',
      'package.ready',
    ]);
    assert.ok(
      deliveries.body.items.every(
        (d) => d.attempts.length === 1 && d.attempts[0].statusCode === 200,
      ),
    );
  });

  it('a receiver answering 500 twice then 200 gets the event on the third attempt, same webhook-id', async () => {
    const sub = await subscribe('/flaky', ['sync.conflict']);
    receiver.respond('/flaky', (_, n) => ({ status: n <= 2 ? 500 : 200 }));
    const [eventId] = await recordEvents(db, [
      {
        type: 'sync.conflict',
        trace: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
        data: {
          conflictId: 'c-1',
          table: 'verse_texts',
          recordId: 'r-1',
          userId: 'u',
          deviceId: null,
          sessionId: null,
        },
        userId: 'u',
      },
    ]);
    const hooks = await eventually(
      async () => (receiver.on('/flaky').length >= 3 ? receiver.on('/flaky') : undefined),
      30_000,
    );
    assert.deepEqual(
      hooks.map((h) => h.headers['webhook-id']),
      [eventId, eventId, eventId],
    );
    for (const h of hooks) {
      verify(sub.secret, h);
      // The delivery job and its outgoing request continue the trace the event recorded.
      assert.equal(String(h.headers.traceparent).split('-')[1], TRACE_ID);
    }
    const delivery = await eventually(async () => {
      const res = await api.get<{ items: Delivery[] }>(`/v1/admin/webhooks/${sub.id}/deliveries`);
      return res.body.items[0]?.status === 'delivered' ? res.body.items[0] : undefined;
    });
    assert.equal(delivery.messageId, eventId);
    assert.deepEqual(
      delivery.attempts.map((a) => a.statusCode),
      [500, 500, 200],
    );
    assert.equal(delivery.attempts[0].error, 'HTTP 500');
    assert.ok(delivery.attempts[0].nextAttemptAt, 'a failed attempt says when the next one is due');
    assert.equal(delivery.attempts[2].nextAttemptAt, null);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(receiver.on('/flaky').length, 3, 'nothing more after the success');
  });

  it('honours Retry-After on 429; a redirect is a failure, never followed', async () => {
    const sub = await subscribe('/slowdown', ['content.changed']);
    receiver.respond('/slowdown', (_, n): Reply =>
      n === 1
        ? { status: 429, headers: { 'retry-after': '2' } }
        : n === 2
          ? { status: 302, headers: { location: `${receiver.url}/elsewhere` } }
          : { status: 204 },
    );
    await recordEvents(db, [
      {
        type: 'content.changed',
        data: {
          scope: 'text',
          versionId: 'web',
          fromRevision: 'a',
          toRevision: 'b',
          counts: {},
          bookIds: [],
          changeCount: 0,
        },
      },
    ]);
    const hooks = await eventually(
      async () => (receiver.on('/slowdown').length >= 3 ? receiver.on('/slowdown') : undefined),
      30_000,
    );
    assert.ok(
      hooks[1].at - hooks[0].at >= 1_900,
      `Retry-After: 2 was honoured (${hooks[1].at - hooks[0].at} ms)`,
    );
    assert.equal(receiver.on('/elsewhere').length, 0, 'the redirect was not followed');
    const res = await eventually(async () => {
      const r = await api.get<{ items: Delivery[] }>(`/v1/admin/webhooks/${sub.id}/deliveries`);
      return r.body.items[0]?.status === 'delivered' ? r.body.items[0] : undefined;
    });
    assert.deepEqual(
      res.attempts.map((a) => a.statusCode),
      [429, 302, 204],
    );
  });

  it('rotation: for 24 h deliveries carry two signatures, each verifying with its secret', async () => {
    const sub = await subscribe('/rotate', ['package.ready']);
    const rotated = await api.post<{ secret: string; previousSecretExpiresAt: string }>(
      `/v1/admin/webhooks/${sub.id}/rotate-secret`,
    );
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.body.secret, sub.secret);
    const hoursLeft = (Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()) / 3_600_000;
    assert.ok(hoursLeft > 23.9 && hoursLeft <= 24, String(hoursLeft));
    const test = await api.post<{ messageId: string }>(`/v1/admin/webhooks/${sub.id}/test`);
    assert.equal(test.status, 202, test.text);
    const [hook] = await eventually(async () =>
      receiver.on('/rotate').length ? receiver.on('/rotate') : undefined,
    );
    assert.equal(hook.headers['webhook-id'], test.body.messageId);
    const signatures = String(hook.headers['webhook-signature']).split(' ');
    assert.equal(signatures.length, 2);
    for (const secret of [rotated.body.secret, sub.secret])
      assert.equal(verify(secret, hook).type, 'webhook.test');
    // Each signature alone verifies with its own secret.
    for (const [i, secret] of [rotated.body.secret, sub.secret].entries())
      verify(secret, { ...hook, headers: { ...hook.headers, 'webhook-signature': signatures[i] } });
    assert.throws(() =>
      verify(rotated.body.secret, {
        ...hook,
        headers: { ...hook.headers, 'webhook-signature': signatures[1] },
      }),
    );
  });

  it('an endpoint failing for WEBHOOK_DISABLE_AFTER is disabled (metric, reason); enabling clears it', async () => {
    const sub = await subscribe('/down', ['package.failed']);
    receiver.respond('/down', () => ({ status: 503 }));
    await recordEvents(db, [{ type: 'package.failed', data: failedData('k') }]);
    await new Promise((r) => setTimeout(r, 1_000));
    await recordEvents(db, [{ type: 'package.failed', data: failedData('k2') }]);
    const disabled = await eventually(async () => {
      const res = await api.get<Subscription>(`/v1/admin/webhooks/${sub.id}`);
      return res.body.enabled ? undefined : res.body;
    }, 30_000);
    assert.match(disabled.disabledReason ?? '', /^failing since .*HTTP 503/);
    const metrics = await (await fetch(`${notifier.url}/metrics`)).text();
    assert.match(metrics, /^bible_webhook_endpoints_disabled_total(\{[^}]*\})? [1-9]/m);
    assert.match(notifier.output(), /webhook endpoint disabled/);
    assert.ok(!notifier.output().includes(sub.secret.slice(6)), 'secrets never logged');
    const enabled = await api.patch<Subscription>(`/v1/admin/webhooks/${sub.id}`, {
      enabled: true,
    });
    assert.equal(enabled.body.enabled, true);
    assert.equal(enabled.body.disabledReason, null);
  });

  it('replay: the event feed and /replay give a receiver that was down what it missed', async () => {
    const sub = await subscribe('/missed', ['sync.conflict']);
    receiver.respond('/missed', () => ({ status: 500 }));
    const since = new Date(Date.now() - 1_000).toISOString();
    const before = await api.get<{ items: { id: string }[]; nextCursor: string | null }>(
      '/v1/admin/events?types=sync.conflict&limit=1000',
    );
    assert.equal(before.status, 200, before.text);
    const ids = await recordEvents(
      db,
      [1, 2, 3].map((n) => ({
        type: 'sync.conflict' as const,
        data: {
          conflictId: `m-${n}`,
          table: 'verse_texts',
          recordId: `r-${n}`,
          userId: 'u',
          deviceId: null,
          sessionId: null,
        },
      })),
    );
    // Every attempt fails for good (schedule spent).
    await eventually(async () => {
      const res = await api.get<{ items: Delivery[] }>(
        `/v1/admin/webhooks/${sub.id}/deliveries?status=failed`,
      );
      return res.body.items.length === 3;
    }, 60_000);
    // A consumer catches up from the feed, after the last cursor it had ...
    // (The feed shows an event once no older transaction in the cluster is still open.)
    const feed = await eventually(async () => {
      const res = await api.get<{ items: { id: string; type: string }[] }>(
        `/v1/admin/events?types=sync.conflict&after=${before.body.nextCursor}`,
      );
      return res.body.items.length >= ids.length ? res.body.items : undefined;
    }, 30_000);
    assert.deepEqual(
      feed.map((e) => e.id),
      ids,
      'the feed has exactly the missed events, in order',
    );
    // ... or asks for a redelivery once it is back.
    receiver.respond('/missed', () => ({ status: 200 }));
    // Failing that long may have disabled the endpoint: the operator enables it, then replays.
    const enabled = await api.patch<Subscription>(`/v1/admin/webhooks/${sub.id}`, {
      enabled: true,
    });
    assert.equal(enabled.body.enabled, true);
    const seen = receiver.on('/missed').length;
    const replay = await api.post<{ queued: number; complete: boolean }>(
      `/v1/admin/webhooks/${sub.id}/replay`,
      { since },
    );
    assert.equal(replay.status, 202, replay.text);
    assert.equal(replay.body.queued, 3);
    assert.equal(replay.body.complete, true);
    const redelivered = await eventually(async () => {
      const got = receiver.on('/missed').slice(seen);
      return got.length >= 3 ? got : undefined;
    }, 30_000);
    assert.deepEqual(new Set(redelivered.map((h) => h.headers['webhook-id'])), new Set(ids));
    for (const h of redelivered) verify(sub.secret, h);
    // One delivery can be retried on its own.
    const list = await api.get<{ items: Delivery[] }>(
      `/v1/admin/webhooks/${sub.id}/deliveries?status=delivered`,
    );
    await eventually(
      async () =>
        (
          await api.get<{ items: Delivery[] }>(
            `/v1/admin/webhooks/${sub.id}/deliveries?status=delivered`,
          )
        ).body.items.length === 3,
    );
    const one =
      (
        await api.get<{ items: Delivery[] }>(
          `/v1/admin/webhooks/${sub.id}/deliveries?status=delivered`,
        )
      ).body.items[0] ?? list.body.items[0];
    const retried = await api.post<{ attempt: number }>(
      `/v1/admin/webhooks/${sub.id}/deliveries/${one.id}/retry`,
    );
    assert.equal(retried.status, 202, retried.text);
    await eventually(
      async () =>
        receiver
          .on('/missed')
          .slice(seen)
          .filter((h) => h.headers['webhook-id'] === one.messageId).length === 2,
    );
  });

  it('a slow endpoint holds at most its concurrency limit and does not starve the others', async () => {
    const EVENTS = 40;
    const SLOW_MS = 2_000;
    await subscribe('/slow', ['package.ready']);
    await subscribe('/fast', ['package.ready']);
    receiver.respond('/slow', () => ({ status: 200, delayMs: SLOW_MS }));
    const started = Date.now();
    const ids = await recordEvents(
      db,
      Array.from({ length: EVENTS }, (_, i) => ({
        type: 'package.ready' as const,
        data: {
          packageId: `slow-${i}`,
          packageKey: 'k',
          type: 'text' as const,
          part: null,
          partCount: null,
          sizeBytes: 1,
          contentSha256: 'a'.repeat(64),
          contentRevision: '1.1',
          requestIds: [],
          requestedBy: [],
        },
      })),
    );
    await eventually(
      async () => new Set(receiver.on('/fast').map((h) => h.headers['webhook-id'])).size === EVENTS,
      30_000,
      50,
    );
    const fastMs = Date.now() - started;
    const slowSoFar = receiver.on('/slow').length;
    // The slow endpoint needs at least EVENTS / 10 * SLOW_MS = 8 s; the others are not held up.
    assert.ok(fastMs < 4_000, `the fast endpoint got all ${EVENTS} in ${fastMs} ms`);
    assert.ok(
      slowSoFar < EVENTS,
      `the fast endpoint got all ${EVENTS} in ${fastMs} ms while the slow one had ${slowSoFar}`,
    );
    const slow = await eventually(
      async () => (receiver.on('/slow').length >= EVENTS ? receiver.on('/slow') : undefined),
      60_000,
    );
    assert.deepEqual(new Set(slow.map((h) => h.headers['webhook-id'])), new Set(ids));
    // Requests that arrived within one answer time of each other were in flight together.
    const arrivals = slow.map((h) => h.at).sort((a, b) => a - b);
    const inFlight = Math.max(
      ...arrivals.map((t, i) => arrivals.filter((u, j) => j <= i && t - u < SLOW_MS - 100).length),
    );
    assert.ok(
      inFlight <= 10,
      `at most WEBHOOK_ENDPOINT_CONCURRENCY (10) in flight, saw ${inFlight}`,
    );
  });

  it('a notifier killed with SIGKILL mid-backlog loses nothing; a restarted one delivers each event once per endpoint', async () => {
    const EVENTS = 1_500;
    const subs = [
      await subscribe('/bulk-1', ['content.changed']),
      await subscribe('/bulk-2', ['content.changed']),
    ];
    // A little slow, so the kill lands with attempts in flight.
    for (const s of ['/bulk-1', '/bulk-2'])
      receiver.respond(s, () => ({ status: 200, delayMs: 5 }));
    const ids = await recordEvents(
      db,
      Array.from({ length: EVENTS }, (_, i) => ({
        type: 'content.changed' as const,
        data: {
          scope: 'text',
          versionId: 'web',
          fromRevision: String(i),
          toRevision: String(i + 1),
          counts: {},
          bookIds: [],
          changeCount: 1,
        },
      })),
    );
    await eventually(
      async () => receiver.count('/bulk-1') + receiver.count('/bulk-2') >= 300,
      60_000,
      20,
    );
    await notifier.stop('SIGKILL');
    const atKill = receiver.count('/bulk-1') + receiver.count('/bulk-2');
    assert.ok(atKill < 2 * EVENTS, `killed mid-backlog (${atKill} of ${2 * EVENTS} received)`);
    notifier = await startService('notifier', notifierEnv);
    for (const path of ['/bulk-1', '/bulk-2']) {
      const got = await eventually(
        async () => {
          const ids = new Set(receiver.on(path).map((h) => String(h.headers['webhook-id'])));
          return ids.size === EVENTS ? ids : undefined;
        },
        180_000,
        500,
      );
      assert.deepEqual([...got].sort(), [...ids].sort(), `${path}: every event arrived`);
      const duplicates = receiver.on(path).length - EVENTS;
      // Only attempts in flight at the kill can arrive twice (receivers dedupe on webhook-id).
      assert.ok(duplicates <= CONCURRENCY, `${path}: ${duplicates} duplicates`);
    }
    // Attempts in flight at the kill are recorded once their stalled jobs run again (after the
    // lock expires); every delivery ends delivered, and there is one per (event, endpoint).
    const counts = async () => {
      const { rows } = await db.query<{ n: number; delivered: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'delivered')::int AS delivered
           FROM webhook_deliveries WHERE subscription_id = ANY($1) GROUP BY subscription_id`,
        [subs.map((s) => s.id)],
      );
      return rows.map((r) => [r.n, r.delivered]);
    };
    await eventually(async () => (await counts()).every(([, d]) => d === EVENTS), 120_000, 500);
    assert.deepEqual(
      await counts(),
      [
        [EVENTS, EVENTS],
        [EVENTS, EVENTS],
      ],
      'one delivery per (event, endpoint)',
    );
    const undispatched = await db.query(`SELECT 1 FROM events WHERE dispatched_at IS NULL`);
    assert.equal(undispatched.rowCount, 0);
  });
});
