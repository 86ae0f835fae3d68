// Device push (issue 12), end to end: gateway, builder and notifier run as processes against the
// real Postgres, Redis and MinIO; the providers are local fakes speaking the real protocols (FCM
// v1 with OAuth2 JWT-bearer, APNs over HTTP/2 + TLS with ES256 provider tokens, a Web Push
// service that verifies VAPID and decrypts RFC 8291 with the browser subscription's key).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import webpush from 'web-push';
import {
  type NewEvent,
  type PushSendJob,
  QueueName,
  pushSendJobId,
  recordEvents,
} from '@bible/common';
import {
  type FakeApns,
  type FakeFcm,
  type FakeWebPush,
  type RunningService,
  apiClient,
  eventually,
  startFakeApns,
  startFakeFcm,
  startFakeWebPush,
  startService,
  startTcpProxy,
  tokenFor,
} from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

interface PushToken {
  id: string;
  platform: string;
  token: string;
}
interface Notification {
  id: string;
  type: string;
  status: string;
  attempts: number;
  lastError: string | null;
  provider: string;
  providerMessageId: string | null;
  pushTokenId: string | null;
  eventId: string | null;
  notBefore: string | null;
  sentAt: string | null;
  data: Record<string, string>;
}
interface ErrorBody {
  details: { field: string; message: string }[];
}

const fcmToken = () => `fcm-${randomBytes(24).toString('base64url')}`;
const apnsToken = () => randomBytes(32).toString('hex');

const readyEvent = (
  userId: string,
  packageId = `pkg-${randomBytes(4).toString('hex')}`,
): NewEvent => ({
  type: 'package.ready',
  userId,
  data: {
    packageId,
    packageKey: `key-${packageId}`,
    type: 'text',
    part: null,
    partCount: null,
    sizeBytes: 1,
    contentSha256: '0'.repeat(64),
    contentRevision: '7',
    requestIds: [],
    requestedBy: [userId],
  },
});

describe('device push', { timeout: 10 * 60_000 }, () => {
  let env: Record<string, string>;
  let pushEnv: Record<string, string>;
  let gateway: RunningService;
  let builder: RunningService;
  let notifier: RunningService;
  let fcm: FakeFcm;
  let apns: FakeApns;
  let web: FakeWebPush;
  let db: Client;
  const vapid = webpush.generateVAPIDKeys();
  const as = async (user: string) =>
    apiClient(gateway.url, await tokenFor(env.JWT_SECRET, user, 'user'));

  const notificationsOf = async (user: string, status?: string) => {
    const api = await as(user);
    const res = await api.get<{ items: Notification[] }>(
      `/v1/notifications?limit=100${status ? `&status=${status}` : ''}`,
    );
    assert.equal(res.status, 200, res.text);
    return res.body.items;
  };

  before(async () => {
    env = await seededTestDatabase();
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    [fcm, apns, web] = await Promise.all([
      startFakeFcm(),
      startFakeApns(),
      startFakeWebPush({ vapidPublicKey: vapid.publicKey }),
    ]);
    pushEnv = {
      ...env,
      FCM_SERVICE_ACCOUNT_FILE: fcm.serviceAccountFile,
      FCM_ENDPOINT: fcm.url,
      FCM_TOKEN_URI: fcm.tokenUri,
      APNS_KEY_FILE: apns.keyFile,
      APNS_KEY_ID: apns.keyId,
      APNS_TEAM_ID: apns.teamId,
      APNS_TOPIC: apns.topic,
      APNS_HOST: apns.url,
      APNS_CA_FILE: apns.caFile,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:push-e2e@example.org',
      WEBPUSH_CA_FILE: web.caFile,
      PUSH_DISPATCH_INTERVAL_MS: '50',
      PUSH_RETRY_BASE_MS: '200',
    };
    [gateway, builder, notifier] = await Promise.all([
      startService('api-gateway', {
        ...env,
        VAPID_PUBLIC_KEY: vapid.publicKey,
        RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
        RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
      }),
      startService('package-builder', env),
      startService('notifier', pushEnv),
    ]);
  });

  after(async () => {
    await Promise.all([gateway, builder, notifier].map((s) => s?.stop('SIGKILL')));
    await Promise.all([fcm, apns, web].map((f) => f?.close()));
    await db?.end();
  });

  it('an android, an ios and a web device each receive package.ready through their protocol', async () => {
    const user = 'push-e2e-alice';
    const api = await as(user);
    const key = await api.get<{ publicKey: string }>('/v1/push/vapid-public-key');
    assert.equal(key.body.publicKey, vapid.publicKey);
    const android = fcmToken();
    const ios = apnsToken();
    const sub = web.subscribe();
    const reg = [
      await api.post<PushToken>('/v1/push-tokens', {
        platform: 'android',
        token: android,
        deviceId: 'pixel',
        locale: 'es-MX',
      }),
      await api.post<PushToken>('/v1/push-tokens', {
        platform: 'ios',
        token: ios,
        deviceId: 'iphone',
      }),
      await api.post<PushToken>('/v1/push-tokens', {
        platform: 'web',
        token: { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys },
        deviceId: 'browser',
        locale: 'fr',
      }),
    ];
    for (const r of reg) assert.equal(r.status, 201, r.text);
    const again = await api.post<PushToken>('/v1/push-tokens', {
      platform: 'ios',
      token: ios,
      deviceId: 'iphone',
    });
    assert.equal(again.status, 200, 'the same token again is idempotent');
    assert.equal(again.body.id, reg[1].body.id);
    assert.equal((await api.get<{ items: PushToken[] }>('/v1/push-tokens')).body.items.length, 3);

    const requested = await api.post<{ jobId: string }>('/v1/packages', {
      packageType: 'text',
      languageEntityId: 'eng',
      textVersionId: 'web',
      books: ['Ruth'],
    });
    assert.equal(requested.status, 202, requested.text);
    const received = await eventually(
      async () => {
        await Promise.resolve();
        const f = fcm.requests.find((r) => r.token === android && r.status === 200);
        const a = apns.requests.find((r) => r.token === ios && r.status === 200);
        const w = web.requests.find((r) => r.token === sub.endpoint && r.status === 201);
        return f && a && w ? { f, a, w } : undefined;
      },
      180_000,
      200,
    );
    // FCM: data carries the ids, Spanish texts for es-MX.
    const fMsg = received.f.payload as {
      data: Record<string, string>;
      notification: { title: string };
    };
    assert.equal(fMsg.data.type, 'package.ready');
    assert.ok(fMsg.data.packageId);
    assert.ok(fMsg.data.cursor);
    assert.equal(fMsg.notification.title, 'Descarga lista');
    // APNs: the fake verified the ES256 JWT, topic and push type; the collapse id is set.
    assert.equal(received.a.headers['apns-topic'], apns.topic);
    assert.equal(received.a.headers['apns-push-type'], 'alert');
    assert.match(String(received.a.headers['apns-collapse-id']), /^package:/);
    assert.equal((received.a.payload as Record<string, string>).packageId, fMsg.data.packageId);
    // Web: decrypted with the subscription's private key, French texts.
    const wMsg = received.w.payload as { title: string; data: Record<string, string> };
    assert.equal(wMsg.title, 'Téléchargement prêt');
    assert.equal(wMsg.data.packageId, fMsg.data.packageId);

    const sent = await eventually(async () => {
      const items = (await notificationsOf(user, 'sent')).filter((n) => n.type === 'package.ready');
      return items.length === 3 ? items : undefined;
    }, 10_000);
    assert.deepEqual(sent.map((n) => n.provider).sort(), ['apns', 'fcm', 'webpush']);
    for (const n of sent) {
      assert.ok(n.providerMessageId, `${n.provider} message id`);
      assert.equal(n.attempts, 1);
    }
  });

  it('registration answers 400 naming the field', async () => {
    const api = await as('push-e2e-val');
    const cases: [unknown, string][] = [
      [{ platform: 'ios', token: 'not-hex' }, 'body.token'],
      [{ platform: 'pager', token: 'x' }, 'body.platform'],
      [
        {
          platform: 'web',
          token: { endpoint: 'http://example.com/x', keys: { p256dh: 'a', auth: 'b' } },
        },
        'body.token.endpoint',
      ],
      [
        {
          platform: 'web',
          token: {
            endpoint: 'https://example.com/x',
            keys: { p256dh: 'AAAA', auth: randomBytes(16).toString('base64url') },
          },
        },
        'body.token.keys.p256dh',
      ],
      [{ platform: 'android', token: fcmToken(), timezone: 'Mars/Base' }, 'body.timezone'],
      [{ platform: 'android', token: fcmToken(), extra: 1 }, 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await api.post<ErrorBody>('/v1/push-tokens', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.ok(
        res.body.details.some((d) => d.field === field),
        `${field} in ${res.text}`,
      );
    }
    // A web endpoint on a private address is refused by the SSRF guard.
    const sub = web.subscribe();
    const res = await api.post<ErrorBody>('/v1/push-tokens', {
      platform: 'web',
      token: { endpoint: 'https://10.0.0.5/push/x', keys: sub.keys },
    });
    assert.equal(res.status, 400, res.text);
    assert.ok(
      res.body.details.some((d) => d.field === 'body.token.endpoint' && /private/.test(d.message)),
    );
    const prefs = await api.put<ErrorBody>('/v1/notification-preferences', {
      quietHours: { start: '25:00', end: '07:00', timezone: 'UTC' },
    });
    assert.equal(prefs.status, 400);
    assert.equal(prefs.body.details[0].field, 'body.quietHours.start');
    assert.equal((await api.get('/v1/notifications?status=bogus')).status, 400);
    assert.equal((await api.get('/v1/notifications?cursor=zzz')).status, 400);
  });

  it('an unregistered token is pruned after one failed send and never tried again', async () => {
    const user = 'push-e2e-bob';
    const api = await as(user);
    const dead = fcmToken();
    const deadIos = apnsToken();
    fcm.behave(dead, { kind: 'unregistered' });
    apns.behave(deadIos, { kind: 'unregistered' });
    assert.equal(
      (await api.post('/v1/push-tokens', { platform: 'android', token: dead })).status,
      201,
    );
    assert.equal(
      (await api.post('/v1/push-tokens', { platform: 'ios', token: deadIos })).status,
      201,
    );
    await recordEvents(db, [readyEvent(user)]);
    const failed = await eventually(async () => {
      const items = await notificationsOf(user, 'failed');
      return items.length === 2 ? items : undefined;
    }, 30_000);
    for (const n of failed) {
      assert.match(String(n.lastError), /token deleted/);
      assert.equal(n.pushTokenId, null);
    }
    assert.deepEqual((await api.get<{ items: unknown[] }>('/v1/push-tokens')).body.items, []);
    await recordEvents(db, [readyEvent(user)]);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(fcm.requests.filter((r) => r.token === dead).length, 1);
    assert.equal(apns.requests.filter((r) => r.token === deadIos).length, 1);
  });

  it('a 429 with Retry-After is retried after it', async () => {
    const user = 'push-e2e-carol';
    const api = await as(user);
    const token = fcmToken();
    fcm.behave(token, { kind: 'throttle', retryAfterSeconds: 2, times: 1 });
    assert.equal((await api.post('/v1/push-tokens', { platform: 'android', token })).status, 201);
    await recordEvents(db, [readyEvent(user)]);
    const [n] = await eventually(async () => {
      const items = await notificationsOf(user, 'sent');
      return items.length === 1 ? items : undefined;
    }, 30_000);
    assert.equal(n.attempts, 2);
    const tries = fcm.requests.filter((r) => r.token === token);
    assert.deepEqual(
      tries.map((r) => r.status),
      [429, 200],
    );
    assert.ok(tries[1].at - tries[0].at >= 1_900, `retried ${tries[1].at - tries[0].at} ms later`);
  });

  it('quiet hours delay the notification to the end of the window', async () => {
    const user = 'push-e2e-dave';
    const api = await as(user);
    const token = fcmToken();
    assert.equal((await api.post('/v1/push-tokens', { platform: 'android', token })).status, 201);
    const hms = (d: Date) => d.toISOString().slice(11, 19);
    const now = new Date();
    const end = new Date(Math.ceil((now.getTime() + 6_000) / 1000) * 1000);
    const saved = await api.put<{ quietHours: unknown }>('/v1/notification-preferences', {
      quietHours: { start: hms(new Date(now.getTime() - 60_000)), end: hms(end), timezone: 'UTC' },
      eventTypes: { 'sync.conflict': false },
    });
    assert.equal(saved.status, 200, saved.text);
    await recordEvents(db, [
      readyEvent(user),
      {
        type: 'sync.conflict',
        userId: user,
        data: {
          conflictId: '6f1c1d5e-7f67-4d0a-9d2c-6d0f2b8d2a11',
          table: 'verse_texts',
          recordId: 'r',
          userId: user,
          deviceId: null,
          sessionId: null,
        },
      },
    ]);
    const [pending] = await eventually(async () => {
      const items = await notificationsOf(user);
      return items.length > 0 ? items : undefined;
    }, 10_000);
    assert.equal(pending.status, 'pending');
    assert.equal(pending.notBefore, end.toISOString());
    const got = await eventually(
      () => Promise.resolve(fcm.requests.find((r) => r.token === token && r.status === 200)),
      30_000,
      100,
    );
    assert.ok(
      got.at >= end.getTime(),
      `delivered ${end.getTime() - got.at} ms before the window end`,
    );
    // The switched-off type created nothing.
    const all = await notificationsOf(user);
    assert.deepEqual(
      all.map((n) => n.type),
      ['package.ready'],
    );
  });

  it('a user cannot list or delete another user’s tokens or notifications', async () => {
    const alice = await as('push-e2e-alice');
    const mallory = await as('push-e2e-mallory');
    const aliceTokens = (await alice.get<{ items: PushToken[] }>('/v1/push-tokens')).body.items;
    assert.ok(aliceTokens.length > 0);
    assert.deepEqual((await mallory.get<{ items: unknown[] }>('/v1/push-tokens')).body.items, []);
    assert.deepEqual(await notificationsOf('push-e2e-mallory'), []);
    for (const t of aliceTokens)
      assert.equal((await mallory.delete(`/v1/push-tokens/${t.id}`)).status, 404);
    assert.equal(
      (await alice.get<{ items: PushToken[] }>('/v1/push-tokens')).body.items.length,
      aliceTokens.length,
    );
    // Registering Alice's token moves it to the new owner (a device changed hands).
    const moved = await mallory.post<PushToken>('/v1/push-tokens', {
      platform: 'ios',
      token: aliceTokens.find((t) => t.platform === 'ios')?.token,
    });
    assert.equal(moved.status, 201);
    assert.equal(
      (await alice.get<{ items: PushToken[] }>('/v1/push-tokens')).body.items.length,
      aliceTokens.length - 1,
    );
    assert.equal((await mallory.delete(`/v1/push-tokens/${moved.body.id}`)).status, 204);
  });

  it('content.changed reaches the devices holding the version, coalesced per window', async () => {
    // Alice's package request built a package of text version "web"; a sync session of a
    // device of Erin holds a package of it too; Frank holds nothing.
    const erinToken = fcmToken();
    const frankToken = fcmToken();
    assert.equal(
      (
        await (
          await as('push-e2e-erin')
        ).post('/v1/push-tokens', { platform: 'android', token: erinToken, deviceId: 'tab' })
      ).status,
      201,
    );
    assert.equal(
      (
        await (
          await as('push-e2e-frank')
        ).post('/v1/push-tokens', { platform: 'android', token: frankToken, deviceId: 'x' })
      ).status,
      201,
    );
    await db.query(
      `INSERT INTO sync_sessions (user_id, device_id, package_id)
       SELECT 'push-e2e-erin', 'tab', package_id FROM package_generations
        WHERE text_version_id = 'web' LIMIT 1`,
    );
    const changed = (from: string, to: string): NewEvent => ({
      type: 'content.changed',
      data: {
        scope: 'text',
        versionId: 'web',
        fromRevision: from,
        toRevision: to,
        counts: { verse_texts: { inserted: 0, updated: 3, deleted: 0 } },
        bookIds: ['RUT'],
        changeCount: 3,
      },
    });
    // The second event of the window is recorded once the first has reached Erin's device, so
    // the test knows which one the device holds (fan-out of events runs in parallel).
    await recordEvents(db, [changed('100', '110')]);
    await eventually(
      async () => ((await notificationsOf('push-e2e-erin')).length > 0 ? true : undefined),
      30_000,
    );
    await recordEvents(db, [changed('110', '120')]);
    const got = await eventually(async () => {
      const erin = await notificationsOf('push-e2e-erin', 'sent');
      const alice = (await notificationsOf('push-e2e-alice', 'sent')).filter(
        (n) => n.type === 'content.changed',
      );
      return erin.length > 0 && alice.length > 0 ? { erin, alice } : undefined;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(
      (await notificationsOf('push-e2e-erin')).length,
      1,
      'coalesced: one per device and window',
    );
    assert.equal(got.erin[0].data.versionId, 'web');
    assert.equal(got.erin[0].data.cursor, '100');
    assert.deepEqual(await notificationsOf('push-e2e-frank'), []);
    const req = fcm.requests.find((r) => r.token === erinToken);
    assert.equal(
      (req?.payload as { android: { collapse_key: string } }).android.collapse_key,
      'content:web',
    );
  });

  it('a notifier killed mid-fan-out sends each (event, device) once', async () => {
    const user = 'push-e2e-crowd';
    const devices = 3_000;
    await db.query(
      `INSERT INTO push_tokens (user_id, token, platform)
       SELECT $1, 'crowd-' || g || '-' || md5(g::text), 'android' FROM generate_series(1, $2) g`,
      [user, devices],
    );
    await notifier.stop('SIGTERM');
    // The victim reaches Postgres through a proxy that holds each query 30 ms: its 150 fan-out
    // pages take seconds whatever the machine's speed, so the kill lands mid-fan-out.
    const dbUrl = new URL(env.DATABASE_URL);
    const proxy = await startTcpProxy(Number(dbUrl.port || 5432), dbUrl.hostname);
    dbUrl.host = `127.0.0.1:${proxy.port}`;
    const slowEnv = {
      ...pushEnv,
      DATABASE_URL: dbUrl.toString(),
      PUSH_FANOUT_PAGE_SIZE: '20',
      PUSH_RATE_FCM: '2',
    };
    const victim = await startService('notifier', slowEnv);
    proxy.delayUpstream(30);
    const [eventId] = await recordEvents(db, [readyEvent(user)]);
    const count = async () =>
      Number(
        (
          await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM notifications WHERE event_id = $1`,
            [eventId],
          )
        ).rows[0].n,
      );
    await eventually(async () => ((await count()) > 100 ? true : undefined), 30_000, 10);
    // Between two send jobs (one a second at 2/s): the last accepted sends are recorded in the
    // database by now, even through the slow proxy.
    const before = fcm.requests.length;
    await eventually(() => Promise.resolve(fcm.requests.length > before), 5_000, 5);
    await new Promise((r) => setTimeout(r, 400));
    await victim.stop('SIGKILL');
    await proxy.close();
    const made = await count();
    notifier = await startService('notifier', { ...pushEnv, PUSH_FANOUT_PAGE_SIZE: '20' });
    assert.ok(made < devices, `killed mid-fan-out (${made} of ${devices} notifications made)`);
    await eventually(
      async () => {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM notifications WHERE event_id = $1 AND status = 'sent'`,
          [eventId],
        );
        return Number(rows[0].n) === devices ? true : undefined;
      },
      180_000,
      500,
    );
    assert.equal(await count(), devices, 'one notification per device');
    const perToken = new Map<string, number>();
    for (const r of fcm.requests)
      if (r.token.startsWith('crowd-') && r.status === 200)
        perToken.set(r.token, (perToken.get(r.token) ?? 0) + 1);
    assert.equal(perToken.size, devices, 'every device received it');
    const twice = [...perToken].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no device received it twice');
  });

  it('a notification in two batch jobs is claimed by one and sent once', async () => {
    // A fan-out page re-run after some of its batches ran regroups the rest: the same
    // (notification, attempt) can stand in two jobs with different ids.
    const user = 'push-e2e-twice';
    const tokens = [fcmToken(), fcmToken(), fcmToken()];
    const { rows } = await db.query<{ id: string }>(
      `WITH t AS (
         INSERT INTO push_tokens (user_id, token, platform)
         SELECT $1, unnest($2::text[]), 'android' RETURNING id, token
       )
       INSERT INTO notifications (user_id, type, title, body, push_token_id, provider)
       SELECT $1, 'package.ready', 'Download ready', 'Twice?', t.id, 'fcm'
         FROM t ORDER BY array_position($2::text[], t.token)
       RETURNING id`,
      [user, tokens],
    );
    const [a, b, c] = rows.map((r) => ({ notificationId: r.id, attempt: 1 }));
    const queue = new Queue<PushSendJob>(QueueName.PushFcm, {
      prefix: env.QUEUE_PREFIX,
      connection: { url: env.REDIS_URL },
    });
    try {
      await queue.addBulk(
        [[a, b], [b, c], [c]].map((sends) => ({
          name: 'send',
          data: { sends },
          opts: { jobId: pushSendJobId(sends) },
        })),
      );
    } finally {
      await queue.close();
    }
    await eventually(async () => {
      const { rows: sent } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND status = 'sent'`,
        [user],
      );
      return Number(sent[0].n) === 3 ? true : undefined;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    for (const token of tokens)
      assert.equal(
        fcm.requests.filter((r) => r.token === token).length,
        1,
        'each device received its notification once',
      );
    const { rows: claims } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND send_job IS NOT NULL`,
      [user],
    );
    assert.equal(Number(claims[0].n), 0, 'settled sends hold no claim');
    // The backlog KEDA scales the notifier on: every push queue and the webhooks queue.
    const metrics = await (await fetch(`${notifier.url}/metrics`)).text();
    for (const queue of ['push-fanout', 'push-fcm', 'push-apns', 'push-webpush', 'webhooks'])
      assert.match(
        metrics,
        new RegExp(`^bible_queue_depth\\{queue="${queue}",state="waiting"[^}]*\\} \\d+$`, 'm'),
      );
  });
  it('the recovery pass sends what lost its job or kept a dead job’s claim', async () => {
    // A retry committed without its job (a crash between the two), and a first attempt claimed by
    // a batch job no longer in Redis: neither has a job that would ever send it. A third is
    // claimed by a job still waiting in Redis (delayed): that job sends it, recovery must not.
    const user = 'push-e2e-lost';
    const tokens = [fcmToken(), fcmToken()];
    const heldToken = fcmToken();
    const { rows: held } = await db.query<{ id: string }>(
      `WITH t AS (
         INSERT INTO push_tokens (user_id, token, platform) VALUES ('push-e2e-held', $1, 'android')
         RETURNING id
       )
       INSERT INTO notifications
              (user_id, type, title, body, push_token_id, provider, send_job, created_at)
       SELECT 'push-e2e-held', 'package.ready', 'Download ready', 'Held', t.id, 'fcm',
              'psb-alive', now() - interval '1 minute'
         FROM t
       RETURNING id`,
      [heldToken],
    );
    const fcmQueue = new Queue<PushSendJob>(QueueName.PushFcm, {
      prefix: env.QUEUE_PREFIX,
      connection: { url: env.REDIS_URL },
    });
    await fcmQueue.add(
      'send',
      { sends: [{ notificationId: held[0].id, attempt: 1 }] },
      { jobId: 'psb-alive', delay: 3_600_000 },
    );
    const { rows } = await db.query<{ id: string }>(
      `WITH t AS (
         INSERT INTO push_tokens (user_id, token, platform)
         SELECT $1, unnest($2::text[]), 'android' RETURNING id, token
       )
       INSERT INTO notifications
              (user_id, type, title, body, push_token_id, provider, attempts, send_job, created_at)
       SELECT $1, 'package.ready', 'Download ready', 'Lost?', t.id, 'fcm',
              CASE WHEN t.token = $2[1] THEN 1 ELSE 0 END,
              CASE WHEN t.token = $2[1] THEN NULL ELSE 'psb-gone' END,
              now() - interval '1 minute'
         FROM t
       RETURNING id`,
      [user, tokens],
    );
    assert.equal(rows.length, 2);
    await notifier.stop('SIGTERM');
    notifier = await startService('notifier', { ...pushEnv, PUSH_RECOVERY_AFTER_MS: '1000' });
    const sent = await eventually(async () => {
      const { rows: done } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND status = 'sent'`,
        [user],
      );
      return Number(done[0].n) === 2 ? true : undefined;
    }, 30_000);
    assert.ok(sent);
    await new Promise((r) => setTimeout(r, 1_500)); // another pass finds nothing to re-send
    for (const token of tokens)
      assert.equal(
        fcm.requests.filter((r) => r.token === token && r.status === 200).length,
        1,
        'each device received its notification once',
      );
    const { rows: settled } = await db.query<{ attempts: number; send_job: string | null }>(
      `SELECT attempts, send_job FROM notifications WHERE user_id = $1 ORDER BY attempts DESC`,
      [user],
    );
    assert.deepEqual(settled, [
      { attempts: 2, send_job: null },
      { attempts: 1, send_job: null },
    ]);
    try {
      const { rows: kept } = await db.query<{ status: string; send_job: string | null }>(
        `SELECT status, send_job FROM notifications WHERE id = $1`,
        [held[0].id],
      );
      assert.deepEqual(kept, [{ status: 'pending', send_job: 'psb-alive' }], 'left to its job');
      assert.equal(fcm.requests.filter((r) => r.token === heldToken).length, 0);
    } finally {
      await (await fcmQueue.getJob('psb-alive'))?.remove();
      await fcmQueue.close();
    }
  });
});
