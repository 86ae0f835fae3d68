// Benchmark of webhook delivery by the notifier (docs/events.md, docs/benchmarks.md).
//
//   npm run build && npx tsc -p bench/notifier
//   BENCH_DATABASE_URL=postgres://.../bible_bench node bench/notifier/dist/run.js \
//     [--endpoints 10] [--events 10000] [--rate 200] [--seconds 30] [--baseline 20000]
//     [--node-options '...']   (default: the chart's notifier.nodeOptions)
//
// The database at BENCH_DATABASE_URL (default TEST_DATABASE_URL) is RESET and migrated; the
// notifier runs as a process against it (Redis database 13, flushed). Receivers are local HTTP
// servers on loopback, one port per endpoint, answering 200 at once; they check nothing but read
// each body's `timestamp` (the event's creation time) to measure event created → delivered.
//   baseline:   the receivers' raw capacity: `--baseline` POSTs of the same size from a plain
//               keep-alive client (64 sockets), in this process.
//   throughput: `--events` events are recorded first (a backlog), each subscribed by all
//               `--endpoints` endpoints, then the notifier starts and delivers them all;
//               deliveries/s, and the notifier's RSS sampled every 250 ms (at 10 % and at 100 %
//               of the deliveries: flat means within 20 %).
//   latency:    one endpoint, events recorded one per transaction at `--rate` per second for
//               `--seconds`; event created → delivered percentiles at the receiver.
// Results go to bench/results/notifier-<timestamp>.json (git-ignored).
import { readFileSync } from 'node:fs';
import { createServer, Agent, request, type Server } from 'node:http';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { recordEvents } from '@bible/common';
import { freshTestDataSource } from '@bible/common/database/testing';
import { encryptSecret, generateWebhookSecret } from '@bible/common/webhooks/secrets';
import {
  type RunningService,
  benchNumber,
  latencySummary,
  startService,
  testEnv,
  writeBenchResults,
} from '@bible/testing';
import { notifierNodeOptions, rssMiB } from './process';

const ENDPOINTS = benchNumber('endpoints', 10);
const EVENTS = benchNumber('events', 10_000);
const RATE = benchNumber('rate', 200);
const SECONDS = benchNumber('seconds', 30);
const BASELINE = benchNumber('baseline', 20_000);

const log = (msg: string) => process.stderr.write(`[notifier-bench] ${msg}\n`);

/** Receivers on `n` ports: count deliveries and record created → delivered (ms) per delivery. */
async function receivers(n: number) {
  const state = { delivered: 0, latencies: [] as number[], recordLatency: false };
  const handle = (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.delivered++;
      if (state.recordLatency) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp?: string };
        if (body.timestamp) state.latencies.push(Date.now() - Date.parse(body.timestamp));
      }
      res.writeHead(200);
      res.end();
    });
  };
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer(handle);
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
  }
  const urls = servers.map(
    (s) => `http://127.0.0.1:${(s.address() as { port: number }).port}/hook`,
  );
  return {
    state,
    urls,
    async close() {
      for (const s of servers) {
        s.closeAllConnections();
        s.close();
      }
    },
  };
}

/** The receivers' capacity with a plain keep-alive client (no signing, no queue, no database). */
async function baseline(urls: string[], total: number, body: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let sent = 0;
  const started = performance.now();
  const worker = async () => {
    while (sent < total) {
      const url = urls[sent++ % urls.length];
      await new Promise<void>((resolveRequest, reject) => {
        const req = request(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', resolveRequest);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  agent.destroy();
  return total / ((performance.now() - started) / 1000);
}

/** User + system CPU seconds a process has used so far (Linux /proc, 100 ticks per second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const eventData = (i: number) => ({
  scope: 'text' as const,
  versionId: 'bench',
  fromRevision: `r${i}`,
  toRevision: `r${i + 1}`,
  counts: { verse_texts: { inserted: 0, updated: 1, deleted: 0 } },
  bookIds: ['JHN'],
  changeCount: 1,
});

async function waitFor(what: string, done: () => boolean, timeoutMs = 600_000): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const base = testEnv();
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? base.TEST_DATABASE_URL;
  const redisUrl = new URL(base.REDIS_URL);
  redisUrl.pathname = '/13';
  log(`resetting ${new URL(databaseUrl).pathname.slice(1)}`);
  const ds = await freshTestDataSource(databaseUrl);
  await ds.destroy();
  const db = new Pool({ connectionString: databaseUrl, max: 8 });
  const redis = new Redis(redisUrl.toString());
  await redis.flushdb();
  const rx = await receivers(ENDPOINTS);
  const key = Buffer.from(base.WEBHOOK_SECRET_KEY, 'base64');
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    params: {
      endpoints: ENDPOINTS,
      events: EVENTS,
      rate: RATE,
      seconds: SECONDS,
      baseline: BASELINE,
      nodeOptions: notifierNodeOptions(),
    },
  };
  let notifier: RunningService | undefined;
  const env = testEnv({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl.toString(),
    LOG_LEVEL: 'warn',
    NODE_OPTIONS: notifierNodeOptions(),
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    WEBHOOK_CONCURRENCY: process.env.WEBHOOK_CONCURRENCY ?? '100',
    // 50, not the default 10: the latency phase sends 200 events/s to ONE endpoint, and one
    // endpoint's rate is at most its concurrency / attempt time (docs/benchmarks.md).
    WEBHOOK_ENDPOINT_CONCURRENCY: process.env.WEBHOOK_ENDPOINT_CONCURRENCY ?? '50',
  });
  try {
    const sampleBody = JSON.stringify({
      type: 'content.changed',
      timestamp: new Date().toISOString(),
      data: eventData(0),
    });
    log(`baseline: ${BASELINE} POSTs with a plain keep-alive client`);
    const baselineRate = await baseline(rx.urls, BASELINE, sampleBody);
    results.baseline = { requestsPerSecond: Math.round(baselineRate) };
    log(`baseline: ${Math.round(baselineRate)} req/s`);

    // Throughput: a backlog of EVENTS events x ENDPOINTS endpoints.
    const subs: string[] = [];
    for (const url of rx.urls) {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO webhook_subscriptions (url, event_types, secret_encrypted) VALUES ($1, '{content.changed}', $2) RETURNING id`,
        [url, encryptSecret(generateWebhookSecret(), key)],
      );
      subs.push(rows[0].id);
    }
    log(`recording ${EVENTS} events`);
    for (let i = 0; i < EVENTS; i += 1_000) {
      await recordEvents(
        db,
        Array.from({ length: Math.min(1_000, EVENTS - i) }, (_, j) => ({
          type: 'content.changed' as const,
          data: eventData(i + j),
        })),
      );
    }
    await db.query('VACUUM ANALYZE');
    const total = EVENTS * ENDPOINTS;
    rx.state.delivered = 0;
    const startedAt = performance.now();
    notifier = await startService('notifier', env);
    const pid = notifier.process.pid as number;
    const samples: { delivered: number; rssMiB: number; t: number }[] = [];
    const sampler = setInterval(() => {
      try {
        samples.push({
          delivered: rx.state.delivered,
          rssMiB: rssMiB(pid),
          t: performance.now() - startedAt,
        });
      } catch {
        /* exited */
      }
    }, 250);
    const cpuAtStart = cpuSeconds(pid);
    await waitFor('the backlog', () => rx.state.delivered >= total);
    const seconds = (performance.now() - startedAt) / 1000;
    const notifierCpu = cpuSeconds(pid) - cpuAtStart;
    clearInterval(sampler);
    const at = (fraction: number) =>
      samples.find((s) => s.delivered >= total * fraction) ?? samples[samples.length - 1];
    const rss10 = at(0.1).rssMiB;
    const rss100 = samples[samples.length - 1].rssMiB;
    // Steady rate: between 10 % and 90 % of the deliveries (excludes start-up and the tail).
    const s10 = at(0.1);
    const s90 = at(0.9);
    results.throughput = {
      deliveries: total,
      seconds: Math.round(seconds * 10) / 10,
      deliveriesPerSecond: Math.round(total / seconds),
      steadyDeliveriesPerSecond: Math.round(
        (s90.delivered - s10.delivered) / ((s90.t - s10.t) / 1000),
      ),
      ratioToBaseline: Math.round((total / seconds / baselineRate) * 1000) / 1000,
      rssMiB: {
        at10pct: Math.round(rss10),
        at100pct: Math.round(rss100),
        max: Math.round(Math.max(...samples.map((s) => s.rssMiB))),
      },
      rssGrowth: Math.round((rss100 / rss10 - 1) * 1000) / 1000,
      // What one delivery costs the notifier itself (Postgres, Redis and the receiver not included).
      notifierCpuSeconds: Math.round(notifierCpu * 10) / 10,
      notifierCpuMsPerDelivery: Math.round((notifierCpu / total) * 1000 * 100) / 100,
    };
    log(`throughput: ${JSON.stringify(results.throughput)}`);
    const { rows: check } = await db.query<{ n: string; delivered: string }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE status = 'delivered') AS delivered FROM webhook_deliveries`,
    );
    results.throughputCheck = {
      deliveryRows: Number(check[0].n),
      delivered: Number(check[0].delivered),
      receivedRequests: rx.state.delivered,
    };

    // Latency: one endpoint, RATE events/s, one transaction each.
    await db.query(`UPDATE webhook_subscriptions SET active = false WHERE id <> $1`, [subs[0]]);
    rx.state.delivered = 0;
    rx.state.recordLatency = true;
    const count = RATE * SECONDS;
    log(`latency: ${count} events at ${RATE}/s to one endpoint`);
    const t0 = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(recordEvents(db, [{ type: 'content.changed', data: eventData(i) }]));
    }
    await Promise.all(pending);
    const achieved = count / ((performance.now() - t0) / 1000);
    await waitFor('the latency run', () => rx.state.delivered >= count, 120_000);
    results.latency = {
      events: count,
      achievedRate: Math.round(achieved),
      createdToDeliveredMs: latencySummary(rx.state.latencies),
    };
    log(`latency: ${JSON.stringify(results.latency)}`);
    const metrics = await (await fetch(`${notifier.url}/metrics`)).text();
    results.notifierMetrics = metrics.split('\n').filter((l) =>
      // GC time and heap show what a heap cap (--node-options) costs.
      /^(bible_(webhook_deliveries_total|events_total|webhook_(delivery_latency|attempt_duration)_seconds_(count|sum))|nodejs_gc_duration_seconds_sum|nodejs_heap_size_(used|total)_bytes)/.test(
        l,
      ),
    );
  } finally {
    await notifier?.stop('SIGTERM');
    await rx.close();
    await redis.flushdb().catch(() => undefined);
    redis.disconnect();
    await db.end();
  }
  const file = writeBenchResults('notifier', results);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\nwritten to ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
