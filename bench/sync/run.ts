// Benchmark of incremental sync through the gateway (see docs/sync.md, docs/benchmarks.md).
//
//   npm run build && npx tsc -p bench/sync
//   BENCH_DATABASE_URL=postgres://.../bible_bench scripts/node bench/sync/dist/run.js \
//     [--verses 31102] [--changes 100000] [--limit 5000] [--clients 16] [--batch 100] [--mutations 60000]
//
// The database at BENCH_DATABASE_URL (default TEST_DATABASE_URL) is RESET, migrated and filled
// with a synthetic Bible of WEB's shape (66 books, 1,189 chapters, 31,102 verses, one text
// version). The gateway and sync-service run as processes against it (Redis database 14).
//   pull:  one edit to every verse, repeated until `--changes` changes exist after a package's
//          cursor; then the whole feed is pulled through GET /v1/sync/changes page by page
//          (HTTP + JSON parsing on the client side included), for two page sizes.
//   relay: time for the relay to apply those changes (invalidation, content.changed events).
//   push:  `--clients` concurrent clients push `--batch` verse edits per request until
//          `--mutations` were applied; feed lag per change = its relay time (created_at of the
//          content.changed event covering it) minus its write time (change_log.changed_at, the transaction start), and
//          minus the time the client received the push's answer (the commit, seen from outside).
// Results go to bench/results/sync-<timestamp>.json (git-ignored).
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { ResponseBody } from '@bible/client';
import { FEED_START, comparePositions, decodeCursor, encodeCursor } from '@bible/common';
import { freshTestDataSource } from '@bible/common/database/testing';
import { RELAY_NAME, RELAY_PASSED_SQL } from '@bible/sync';
import {
  apiClient,
  benchNumber,
  latencySummary,
  startService,
  testEnv,
  tokenFor,
  writeBenchResults,
} from '@bible/testing';

const VERSES = benchNumber('verses', 31_102);
const CHANGES = benchNumber('changes', 100_000);
const LIMIT = benchNumber('limit', 5_000);
const CLIENTS = benchNumber('clients', 16);
const BATCH = benchNumber('batch', 100);
const MUTATIONS = benchNumber('mutations', 60_000);
const TV = 'bench-web';

const log = (msg: string) => process.stderr.write(`[sync-bench] ${msg}\n`);

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 600_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A synthetic Bible of WEB's shape: 66 books, 1,189 chapters, `VERSES` verses, one text version. */
async function fixture(db: Pool): Promise<void> {
  await db.query(`
    INSERT INTO regions (id, name) VALUES ('world', 'World');
    INSERT INTO language_entities (id, name, iso_639_1, iso_639_3, region_id) VALUES ('eng', 'English', 'en', 'eng', 'world');
    INSERT INTO bible_versions (id, name, publish_status) VALUES ('bv', 'Protestant', 'published');
    INSERT INTO books (id, name, osis, book_number, bible_version_id, testament)
      SELECT 'b' || n, 'Book ' || n, 'B' || n, n, 'bv', CASE WHEN n <= 39 THEN 'OT' ELSE 'NT' END
        FROM generate_series(1, 66) n;
    INSERT INTO chapters (id, chapter_number, book_id, total_verses)
      SELECT 'c' || n, n, 'b' || (1 + (n - 1) % 66), 0 FROM generate_series(1, 1189) n;
    INSERT INTO text_versions (id, language_entity_id, bible_version_id, name, publish_status)
      VALUES ('${TV}', 'eng', 'bv', 'Bench English', 'published');`);
  await db.query(
    `INSERT INTO verses (id, chapter_id, verse_number)
       SELECT 'v' || n, 'c' || (1 + (n - 1) % 1189), 1 + (n - 1) / 1189 FROM generate_series(1, $1::int) n`,
    [VERSES],
  );
  await db.query(
    `INSERT INTO verse_texts (id, verse_id, text_version_id, verse_text, publish_status)
       SELECT 'vt' || n, 'v' || n, $2, 'And God said, Let there be light: and there was light. ' ||
              repeat('The grace of the Lord be with you all. ', 2) || n, 'published'
         FROM generate_series(1, $1::int) n`,
    [VERSES, TV],
  );
}

async function relayPassed(db: Pool, position: { txid: bigint; id: bigint }): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(RELAY_PASSED_SQL, [
    RELAY_NAME,
    position.txid.toString(),
    position.id.toString(),
  ]);
  return rows[0]?.ok === true;
}

async function head(db: Pool): Promise<{ txid: bigint; id: bigint }> {
  const { rows } = await db.query<{ txid: string; id: string }>(
    `SELECT c.txid::text, c.id::text FROM change_log c ORDER BY c.txid DESC, c.id DESC LIMIT 1`,
  );
  return rows[0] ? { txid: BigInt(rows[0].txid), id: BigInt(rows[0].id) } : FEED_START;
}

async function main(): Promise<void> {
  const base = testEnv();
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? base.TEST_DATABASE_URL;
  const redisUrl = new URL(base.REDIS_URL);
  redisUrl.pathname = '/14';
  log(`resetting ${new URL(databaseUrl).pathname.slice(1)} and loading ${VERSES} verses`);
  const ds = await freshTestDataSource(databaseUrl);
  await ds.destroy();
  const db = new Pool({ connectionString: databaseUrl, max: 4 });
  await fixture(db);
  await db.query('VACUUM ANALYZE');
  const redis = new Redis(redisUrl.toString());
  await redis.flushdb();

  const env = testEnv({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl.toString(),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_SYNC_PER_USER_HOUR: '100000000',
  });
  const [gateway, sync] = await Promise.all([
    startService('api-gateway', env),
    startService('sync-service', env),
  ]);
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memGiB: Math.round(totalmem() / 2 ** 30),
    },
    parameters: {
      verses: VERSES,
      changes: CHANGES,
      limit: LIMIT,
      clients: CLIENTS,
      batch: BATCH,
      mutations: MUTATIONS,
    },
  };
  try {
    // ---------------------------------------------------------------- pull of CHANGES changes
    const packageCursor = encodeCursor(await head(db));
    let made = 0;
    const edit = performance.now();
    while (made < CHANGES) {
      const n = Math.min(VERSES, CHANGES - made);
      const res = await db.query(
        `UPDATE verse_texts SET verse_text = verse_text || '.' WHERE text_version_id = $1 AND id = ANY(
           SELECT 'vt' || g FROM generate_series(1, $2::int) g)`,
        [TV, n],
      );
      made += res.rowCount ?? 0;
    }
    const editMs = performance.now() - edit;
    log(`wrote ${made} changes in ${Math.round(editMs)} ms`);
    const target = await head(db);

    // The relay applies invalidation and records content.changed per batch; time its catch-up.
    const relayStart = performance.now();
    await waitFor('the relay', async () => {
      return (await relayPassed(db, target)) ? true : undefined;
    });
    const relayMs = performance.now() - relayStart + editMs;
    results.relay = {
      changes: made,
      catchUpMsIncludingWrites: Math.round(relayMs),
      changesPerSecond: Math.round(made / (relayMs / 1000)),
    };
    log(`relay caught up: ${JSON.stringify(results.relay)}`);

    const pulls: Record<string, unknown>[] = [];
    const readerToken = await tokenFor(env.JWT_SECRET, 'bench-reader', 'user');
    for (const limit of [LIMIT, 1_000]) {
      const times: number[] = [];
      let pages = 0;
      let count = 0;
      let bytes = 0;
      for (let round = 0; round < 3; round++) {
        const started = performance.now();
        let cursor = packageCursor;
        pages = 0;
        count = 0;
        bytes = 0;
        for (;;) {
          const res = await fetch(
            `${gateway.url}/v1/sync/changes?textVersionId=${TV}&limit=${limit}&cursor=${cursor}`,
            {
              headers: { authorization: `Bearer ${readerToken}` },
            },
          );
          const text = await res.text();
          if (res.status !== 200) throw new Error(`pull ${res.status}: ${text.slice(0, 300)}`);
          bytes += text.length;
          const page = JSON.parse(text) as ResponseBody<'getV1SyncChanges'>;
          pages++;
          count += page.changes.length;
          cursor = page.nextCursor;
          if (!page.hasMore) break;
        }
        times.push(performance.now() - started);
      }
      if (count !== made) throw new Error(`pulled ${count} changes, expected ${made}`);
      const best = Math.min(...times);
      pulls.push({
        limit,
        pages,
        changes: count,
        mebibytes: Math.round((bytes / 2 ** 20) * 10) / 10,
        runsMs: times.map(Math.round),
        bestMs: Math.round(best),
        changesPerSecond: Math.round(count / (best / 1000)),
      });
      log(`pull limit=${limit}: ${JSON.stringify(pulls[pulls.length - 1])}`);
    }
    results.pull = pulls;

    // ---------------------------------------------------------------- push throughput + feed lag
    const versions = new Map<string, number>();
    for (const r of (
      await db.query<{ id: string; version: number }>(`SELECT id, version FROM verse_texts`)
    ).rows) {
      versions.set(r.id, r.version);
    }
    const ids = [...versions.keys()];
    const pushStartHead = await head(db);
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const api = apiClient(
          gateway.url,
          await tokenFor(env.JWT_SECRET, `bench-client-${i}`, 'editor'),
        );
        const session = (
          await api.post<ResponseBody<'postV1SyncSessions', 201>>('/v1/sync/sessions', {
            deviceId: `bench-${i}`,
          })
        ).body.sessionId;
        return { api, session, clientId: `bench-client-${i}` };
      }),
    );
    const requests = Math.ceil(MUTATIONS / BATCH);
    let nextRequest = 0;
    let applied = 0;
    let other = 0;
    const latencies: number[] = [];
    /** (recordId, version) of each applied write -> when the client received the push answer. */
    const acknowledged = new Map<string, number>();
    const pushStarted = performance.now();
    await Promise.all(
      clients.map(async (c, i) => {
        // Each client edits its own slice of verses (clients of one editor team rarely collide).
        const mine = ids.filter((_, k) => k % CLIENTS === i);
        let cursor = 0;
        let m = 0;
        while (nextRequest < requests) {
          nextRequest++;
          const mutations = Array.from({ length: BATCH }, () => {
            const id = mine[cursor++ % mine.length];
            return {
              mutationId: `${c.clientId}-${++m}`,
              table: 'verse_texts',
              recordId: id,
              operation: 'UPDATE',
              data: { verse_text: `edited by ${c.clientId} #${m}` },
              baseVersion: versions.get(id),
              clientUpdatedAt: new Date().toISOString(),
            };
          });
          const started = performance.now();
          const res = await c.api.post<ResponseBody<'postV1SyncPush'>>('/v1/sync/push', {
            sessionId: c.session,
            clientId: c.clientId,
            mutations,
          });
          latencies.push(performance.now() - started);
          const answeredAt = Date.now();
          if (res.status !== 200) throw new Error(`push ${res.status}: ${res.text.slice(0, 300)}`);
          for (const [k, r] of res.body.results.entries()) {
            if (r.result === 'applied') {
              applied++;
              if (r.version) {
                versions.set(mutations[k].recordId, r.version);
                acknowledged.set(`${mutations[k].recordId}/${r.version}`, answeredAt);
              }
            } else other++;
          }
        }
      }),
    );
    const pushMs = performance.now() - pushStarted;
    const pushEnd = await head(db);
    log(`pushed ${applied} applied (+${other} other) in ${Math.round(pushMs)} ms`);

    await waitFor('the relay after the push', async () => {
      return (await relayPassed(db, pushEnd)) ? true : undefined;
    });
    const { rows: changes } = await db.query<{
      txid: string;
      id: string;
      changed_ms: number;
      record_id: string;
      record_version: number;
    }>(
      `SELECT c.txid::text, c.id::text, (extract(epoch FROM c.changed_at) * 1000)::float8 AS changed_ms,
              c.record_id, c.record_version FROM change_log c
        WHERE (c.txid, c.id) > ($1::bigint, $2::bigint) AND c.change_source = 'client_sync'`,
      [pushStartHead.txid.toString(), pushStartHead.id.toString()],
    );
    // Relay time of a change: the created_at of the content.changed event whose revision range
    // (fromRevision, toRevision] holds it (the relay's batch transaction).
    const { rows: batches } = await db.query<{ from: string; to: string; relayed_ms: number }>(
      `SELECT data->>'fromRevision' AS from, data->>'toRevision' AS to,
              (extract(epoch FROM created_at) * 1000)::float8 AS relayed_ms
         FROM events WHERE type = 'content.changed' AND data->>'versionId' = $1 ORDER BY txid, seq`,
      [TV],
    );
    const ranges = batches.map((b) => ({
      from: decodeCursor(b.from) ?? FEED_START,
      to: decodeCursor(b.to) ?? FEED_START,
      relayedMs: b.relayed_ms,
    }));
    const lags: number[] = [];
    const afterAck: number[] = [];
    for (const c of changes) {
      const p = { txid: BigInt(c.txid), id: BigInt(c.id) };
      const batch = ranges.find(
        (r) => comparePositions(r.from, p) < 0 && comparePositions(p, r.to) <= 0,
      );
      if (!batch) continue;
      lags.push(batch.relayedMs - c.changed_ms);
      const ack = acknowledged.get(`${c.record_id}/${c.record_version}`);
      if (ack !== undefined) afterAck.push(Math.max(0, batch.relayedMs - ack));
    }
    results.push = {
      clients: CLIENTS,
      batch: BATCH,
      applied,
      notApplied: other,
      ms: Math.round(pushMs),
      mutationsPerSecond: Math.round(applied / (pushMs / 1000)),
      requestLatencyMs: latencySummary(latencies),
      /** Write (transaction start) -> relayed (content.changed recorded): includes the push transaction. */
      feedLagMs: {
        ...latencySummary(lags),
        relayedChanges: lags.length,
        loggedChanges: changes.length,
      },
      /** Push answered (committed) -> published (0 when the relay was faster than the answer). */
      feedLagAfterCommitMs: latencySummary(afterAck),
    };
    log(`push: ${JSON.stringify(results.push)}`);

    const metrics = await (await fetch(`${sync.url}/metrics`)).text();
    results.syncServiceMetrics = metrics
      .split('\n')
      .filter((l) =>
        /^bible_sync_(feed_lag_seconds_(bucket|count|sum)|relay_changes_total|packages_invalidated_total)/.test(
          l,
        ),
      );
  } finally {
    await Promise.all([gateway.stop('SIGTERM'), sync.stop('SIGTERM')]);
    await redis.flushdb().catch(() => undefined);
    redis.disconnect();
    await db.end();
  }

  const file = writeBenchResults('sync', results);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\nwritten to ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
