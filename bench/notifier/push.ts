// Benchmark of device push by the notifier (docs/notifications.md, docs/benchmarks.md).
//
//   npm run build && npx tsc -p bench/notifier
//   BENCH_DATABASE_URL=postgres://.../bible_bench_push node bench/notifier/dist/push.js \
//     [--devices 100000] [--sends 20000] [--baseline 20000] [--concurrency 200]
//     [--node-options '...']   (default: the chart's notifier.nodeOptions)
//
// The database at BENCH_DATABASE_URL is RESET and migrated; queues get a fresh prefix. The fake
// FCM (libs/testing push-fakes: OAuth2 JWT-bearer token endpoint, messages:send validating each
// body) runs in this process on loopback and only counts.
//   baseline:   the fake's raw capacity: `--baseline` messages:send POSTs from a plain undici Pool
//               (same body, same bearer token, `--concurrency` in flight), in this process.
//   fan-out:    `--devices` android tokens of one user; one package.ready event for that user;
//               one notifier claims it and fans it out in pages (sends throttled to 20/s so the
//               phase measures the fan-out): time to all notification rows and the notifier's
//               RSS sampled every 250 ms (max) and VmHWM.
//   sends:      `--sends` devices of another user, one event, a fresh notifier at full rate:
//               accepted messages/s at the fake from the first to the last, as a ratio to the
//               baseline, and RSS while sending.
// Results go to bench/results/push-<timestamp>.json (git-ignored); the run's queues are deleted.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SignJWT, importPKCS8 } from 'jose';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { Pool as UndiciPool } from 'undici';
import { recordEvents } from '@bible/common';
import { freshTestDataSource } from '@bible/common/database/testing';
import { type RunningService, startFakeFcm, startService, testEnv } from '@bible/testing';
import { hwmMiB, notifierNodeOptions, rssMiB } from './process';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const DEVICES = arg('devices', 100_000);
const SENDS = arg('sends', 20_000);
const NODE_OPTIONS = notifierNodeOptions();
const BASELINE = arg('baseline', 20_000);
const CONCURRENCY = arg('concurrency', 200);
const log = (msg: string) => process.stderr.write(`[push-bench] ${msg}\n`);

async function main(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('set BENCH_DATABASE_URL (it is reset)');
  const env = testEnv({ TEST_DATABASE_URL: url });
  env.DATABASE_URL = url;
  env.QUEUE_PREFIX = `bench-push-${Date.now()}`;
  const ds = await freshTestDataSource(url);
  await ds.destroy();
  const pool = new Pool({ connectionString: url, max: 4 });
  const fcm = await startFakeFcm({ keep: false });

  // Baseline: the fake's capacity from a plain client.
  const account = JSON.parse(readFileSync(fcm.serviceAccountFile, 'utf8')) as {
    client_email: string;
    private_key: string;
  };
  const assertion = await new SignJWT({
    scope: 'https://www.googleapis.com/auth/firebase.messaging',
  })
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(account.client_email)
    .setAudience('https://oauth2.googleapis.com/token')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(await importPKCS8(account.private_key, 'RS256'));
  const tokenRes = await fetch(fcm.tokenUri, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    }),
  });
  const { access_token } = (await tokenRes.json()) as { access_token: string };
  const sendUrl = `${fcm.url}/v1/projects/${fcm.projectId}/messages:send`;
  const body = (i: number) =>
    JSON.stringify({
      message: {
        token: `baseline-${i}`,
        notification: {
          title: 'Download ready',
          body: 'Your Bible package pkg-1 is ready to download.',
        },
        data: {
          type: 'package.ready',
          eventId: '00000000-0000-0000-0000-000000000000',
          packageId: 'pkg-1',
          cursor: '7',
        },
        android: { priority: 'high', ttl: '86400s', collapse_key: 'package:k' },
      },
    });
  // The notifier's own HTTP client (an undici Pool, one request per connection) without the queue,
  // the database or the notifier process.
  const client = new UndiciPool(fcm.url, { connections: CONCURRENCY, pipelining: 1 });
  const sendPath = new URL(sendUrl).pathname;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < BASELINE) {
        const i = next++;
        const res = await client.request({
          path: sendPath,
          method: 'POST',
          headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
          body: body(i),
        });
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) throw new Error(`baseline send answered ${res.statusCode}`);
      }
    }),
  );
  await client.close();
  const baselinePerSecond = BASELINE / ((performance.now() - started) / 1000);
  log(`baseline: ${Math.round(baselinePerSecond)} messages/s from a plain client`);

  const notifierEnv = (rate: number, queuePrefix: string) => ({
    ...env,
    QUEUE_PREFIX: queuePrefix,
    LOG_LEVEL: 'warn',
    NODE_OPTIONS: NODE_OPTIONS,
    FCM_SERVICE_ACCOUNT_FILE: fcm.serviceAccountFile,
    FCM_ENDPOINT: fcm.url,
    FCM_TOKEN_URI: fcm.tokenUri,
    PUSH_CONCURRENCY: String(CONCURRENCY),
    PUSH_RATE_FCM: String(rate),
    PUSH_DISPATCH_INTERVAL_MS: '50',
  });
  const addDevices = (user: string, n: number) =>
    pool.query(
      `INSERT INTO push_tokens (user_id, token, platform, locale)
       SELECT $1, $1 || '-' || g || '-' || md5(g::text), 'android',
              (ARRAY['en', 'es', 'fr', 'de'])[1 + g % 4]
         FROM generate_series(1, $2) g`,
      [user, n],
    );
  const ready = (user: string) =>
    recordEvents(pool, [
      {
        type: 'package.ready',
        userId: user,
        data: {
          packageId: `pkg-${user}`,
          packageKey: `key-${user}`,
          type: 'text',
          part: null,
          partCount: null,
          sizeBytes: 1,
          contentSha256: '0'.repeat(64),
          contentRevision: '7',
          requestIds: [],
          requestedBy: [user],
        },
      },
    ]);
  const count = async (user: string, status?: string) =>
    Number(
      (
        await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)`,
          [user, status ?? null],
        )
      ).rows[0].n,
    );

  // Fan-out: one event to DEVICES devices, sends throttled to a trickle so the phase measures
  // the fan-out (pages, inserts, send jobs) and its memory.
  await addDevices('fanout-user', DEVICES);
  let notifier: RunningService = await startService(
    'notifier',
    notifierEnv(20, `${env.QUEUE_PREFIX}-fanout`),
  );
  let pid = notifier.process.pid as number;
  const rssIdle = rssMiB(pid);
  const fanoutSamples: number[] = [];
  let sampler = setInterval(() => fanoutSamples.push(rssMiB(pid)), 250);
  let t0 = performance.now();
  await ready('fanout-user');
  while ((await count('fanout-user')) < DEVICES) {
    if (performance.now() - t0 > 15 * 60_000) throw new Error('fan-out timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
  const fanoutSeconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const fanoutHwm = hwmMiB(pid);
  await notifier.stop('SIGTERM');
  log(
    `fan-out: ${DEVICES} notifications in ${fanoutSeconds.toFixed(1)} s, RSS max ${Math.max(...fanoutSamples).toFixed(0)} MiB`,
  );
  // The fan-out's sends (throttled, mostly still queued) stay behind in their own queues and their
  // rows go, so the throughput phase sends only its own notifications.
  await pool.query(`DELETE FROM notifications WHERE user_id = 'fanout-user'`);
  await pool.query(`DELETE FROM push_tokens WHERE user_id = 'fanout-user'`);

  // Throughput: SENDS devices, full rate.
  await addDevices('send-user', SENDS);
  const sentBefore = fcm.sent;
  notifier = await startService('notifier', notifierEnv(100_000, `${env.QUEUE_PREFIX}-sends`));
  pid = notifier.process.pid as number;
  const sendSamples: number[] = [];
  sampler = setInterval(() => sendSamples.push(rssMiB(pid)), 250);
  t0 = performance.now();
  await ready('send-user');
  let firstSentAt: number | null = null;
  while (fcm.sent - sentBefore < SENDS) {
    if (firstSentAt === null && fcm.sent > sentBefore) firstSentAt = performance.now();
    if (performance.now() - t0 > 15 * 60_000)
      throw new Error(`timed out at ${fcm.sent - sentBefore} sent`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const lastSentAt = performance.now();
  clearInterval(sampler);
  // The last outcomes reach the database a few milliseconds after the fake counted them.
  let sent = await count('send-user', 'sent');
  for (let i = 0; i < 100 && sent < SENDS; i++) {
    await new Promise((r) => setTimeout(r, 100));
    sent = await count('send-user', 'sent');
  }
  await notifier.stop('SIGTERM');
  await fcm.close();
  await pool.end();
  await dropQueues(env.REDIS_URL, env.QUEUE_PREFIX);
  const sendsPerSecond = SENDS / ((lastSentAt - (firstSentAt ?? t0)) / 1000);
  const result = {
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadavg1: Math.round(loadavg()[0] * 10) / 10,
    },
    nodeOptions: NODE_OPTIONS,
    concurrency: CONCURRENCY,
    baselineMessagesPerSecond: Math.round(baselinePerSecond),
    fanout: {
      devices: DEVICES,
      seconds: Math.round(fanoutSeconds * 10) / 10,
      rssMiB: {
        idle: Math.round(rssIdle),
        max: Math.round(Math.max(...fanoutSamples)),
        hwm: Math.round(fanoutHwm),
      },
    },
    sends: {
      devices: SENDS,
      perSecond: Math.round(sendsPerSecond),
      ratioToBaseline: Math.round((sendsPerSecond / baselinePerSecond) * 100) / 100,
      recordedSent: sent,
      rssMaxMiB: Math.round(Math.max(...sendSamples)),
    },
  };
  const dir = resolve(__dirname, '..', '..', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `push-${Date.now()}.json`),
    JSON.stringify({ ...result, fanoutSamples, sendSamples }, null, 2),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** Deletes this run's queues (both phases' prefixes start with the run's). */
async function dropQueues(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 5_000 }))
      if ((keys as string[]).length > 0) await redis.unlink(...(keys as string[]));
  } finally {
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
