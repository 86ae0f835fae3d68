// Benchmarks of the package pipeline (issue #4), against the real stack (Postgres, Redis,
// MinIO from `npm run stack:up -- --deps-only`) with the gateway and builders as processes.
//
//   npm run build && npx tsc -p bench/pipeline && scripts/node bench/pipeline/dist/run.js
//
// Each figure is a ratio against a baseline measured in the same run, or an absolute time:
//   text      full WEB text package, POST → ready (absolute; goal 2 s, limit 5 s)
//   rows      package database rows per second during that build (from builder metrics)
//   audio     a synthetic 1 GiB audio version (256 × 4 MiB): build throughput vs a plain script
//             that downloads the same objects and uploads them as one multipart object
//   rss       builder peak RSS (VmHWM) for a 128 MiB and a 1 GiB package, fresh process each
//   scale     8 queued 128 MiB packages: 2 builder processes vs 1 (3 alternating rounds,
//             medians), with the machine core-seconds they cost and the CPU ceiling they allow
//   download  1 GiB through the gateway vs a direct presigned GET; 50 concurrent downloads
// Results: bench/results/pipeline-<timestamp>.json (git-ignored) and stdout.
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { Client } from 'pg';
import { createS3Client } from '@bible/storage';
import {
  type RunningService,
  apiClient,
  repoRoot,
  startService,
  testEnv,
  tokenFor,
} from '@bible/testing';
import type { reseedDatabase as ReseedDatabase } from '../../scripts/dist/seed/run-seed';

// dist/ sits one level deeper than this file, so resolve the seed from the repository root.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { reseedDatabase } = require(join(repoRoot, 'scripts', 'dist', 'seed', 'run-seed.js')) as {
  reseedDatabase: typeof ReseedDatabase;
};

const MIB = 1024 * 1024;
const FILE_SIZE = 4 * MIB;
const BOOKS = ['gen', 'exod', 'num', 'deut', 'ps', 'isa', 'jer', 'ezek'];
const FILES_PER_BOOK = 32;
const AUDIO_VERSION = 'bench-audio';

type Env = Record<string, string>;

const SCALE_ROUNDS = 3;

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** 256 synthetic 4 MiB "audio" objects over 8 books (32 chapters each), uploaded once and reused. */
async function syntheticAudio(env: Env, s3: S3Client, db: Client): Promise<{ keys: string[] }> {
  const keys: string[] = [];
  const rows: unknown[][] = [];
  for (const book of BOOKS) {
    for (let chapter = 1; chapter <= FILES_PER_BOOK; chapter++) {
      const id = `${AUDIO_VERSION}-${book}-${chapter}`;
      const key = `media/${AUDIO_VERSION}/${book}-${chapter}.mp3`;
      // Deterministic bytes so reruns skip the upload.
      const seed = createHash('sha256').update(id).digest();
      const body = createCipheriv('aes-256-ctr', seed, Buffer.alloc(16)).update(
        Buffer.alloc(FILE_SIZE),
      );
      const sha = createHash('sha256').update(body).digest('hex');
      const head = await s3
        .send(new HeadObjectCommand({ Bucket: env.S3_BUCKET, Key: key }))
        .catch(() => undefined);
      if (head?.ContentLength !== FILE_SIZE || head.Metadata?.sha256 !== sha) {
        await s3.send(
          new PutObjectCommand({
            Bucket: env.S3_BUCKET,
            Key: key,
            Body: body,
            Metadata: { sha256: sha },
          }),
        );
      }
      keys.push(key);
      rows.push([id, key, sha, `${book}-${chapter}`]);
    }
  }
  await db.query(
    `INSERT INTO audio_versions (id, language_entity_id, bible_version_id, name, publish_status)
     VALUES ($1, 'eng', 'protestant', 'Benchmark audio', 'published') ON CONFLICT DO NOTHING`,
    [AUDIO_VERSION],
  );
  await db.query(
    `INSERT INTO media_files (id, language_entity_id, audio_version_id, remote_path, file_size, duration_seconds, sha256,
                              format, bitrate, sample_rate, upload_status, publish_status, chapter_id)
     SELECT f.id, 'eng', $5, f.key, ${FILE_SIZE}, 262.144, f.sha, 'mp3', 128000, 44100, 'completed', 'published', f.chapter
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS f(id, key, sha, chapter)
     ON CONFLICT DO NOTHING`,
    [
      rows.map((r) => r[0]),
      rows.map((r) => r[1]),
      rows.map((r) => r[2]),
      rows.map((r) => r[3]),
      AUDIO_VERSION,
    ],
  );
  return { keys };
}

/** Baseline: download every object and upload the concatenation as one multipart object. */
async function baselineCopy(env: Env, s3: S3Client, keys: string[]): Promise<number> {
  const started = Date.now();
  const body = new PassThrough({ highWaterMark: 8 * MIB });
  const upload = new Upload({
    client: s3,
    params: { Bucket: env.S3_BUCKET, Key: 'bench/baseline.bin', Body: body },
    queueSize: 2,
    partSize: 8 * MIB,
  });
  const done = upload.done();
  for (const key of keys) {
    const object = await s3.send(new GetObjectCommand({ Bucket: env.S3_BUCKET, Key: key }));
    for await (const chunk of object.Body as Readable)
      if (!body.write(chunk)) await new Promise((r) => body.once('drain', r));
  }
  body.end();
  await done;
  return (Date.now() - started) / 1000;
}

const only = (
  process.argv.find((a) => a.startsWith('--only='))?.slice(7) ?? 'text,audio,scale,download'
).split(',');

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Fraction of the machine's CPU time that was busy between two /proc/stat samples. */
function machineCpu(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + cpu[4];
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function main(): Promise<void> {
  const env = testEnv({
    DATABASE_URL:
      process.env.BENCH_DATABASE_URL ?? testEnv().DATABASE_URL.replace(/\/[^/]+$/, '/bible_bench'),
    LOG_LEVEL: 'warn',
    QUEUE_PREFIX: 'bench-pipeline',
  }) as Env;
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: `${cpus().length} cores`,
  };
  const log = (m: string) => process.stdout.write(`${m}\n`);
  log(`database ${env.DATABASE_URL.replace(/:[^:@]+@/, ':***@')}`);
  await reseedDatabase(env);
  const db = new Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  const s3 = createS3Client({ ...env, S3_FORCE_PATH_STYLE: true } as never);
  const { keys } = await syntheticAudio(env, s3, db);
  const token = await tokenFor(env.JWT_SECRET, 'bench');
  const limits = {
    RATE_LIMIT_BUILDS_PER_USER_HOUR: '100000',
    RATE_LIMIT_BUILDS_PER_IP_HOUR: '100000',
    RATE_LIMIT_DOWNLOADS_PER_USER_HOUR: '100000',
    RATE_LIMIT_DOWNLOADS_PER_IP_HOUR: '100000',
    // Status polls count against the per-IP default bucket.
    RATE_LIMIT_DEFAULT_PER_IP_HOUR: '10000000',
  };
  const gateway = await startService('api-gateway', { ...env, ...limits });
  const api = apiClient(gateway.url, token);
  // Status polls cost gateway, Redis and Postgres CPU on the same 2 cores: fine-grained for a
  // single build (its time is the figure), coarse when many builds run at once.
  const build = async (body: Record<string, unknown>, pollMs = 50) => {
    const started = Date.now();
    const res = await api.post<{ jobId?: string; packageId?: string }>('/v1/packages', body);
    if (res.status === 200) return { packageId: res.body.packageId as string, seconds: 0 };
    if (res.status !== 202)
      throw new Error(`POST /v1/packages answered ${res.status}: ${res.text}`);
    // A failed job or a refused poll ends the benchmark at once instead of polling on.
    for (;;) {
      const s = await api.get<{ status: string; packageId?: string; error?: string }>(
        `/v1/packages/jobs/${res.body.jobId}`,
      );
      if (s.status !== 200) throw new Error(`job status answered ${s.status}: ${s.text}`);
      if (s.body.status === 'failed') throw new Error(`build failed: ${s.body.error}`);
      if (s.body.status === 'completed') {
        return { packageId: s.body.packageId as string, seconds: (Date.now() - started) / 1000 };
      }
      if (Date.now() - started > 30 * 60_000) throw new Error('build did not finish in 30 min');
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  };
  const withBuilder = async <T>(
    count: number,
    fn: (builders: RunningService[]) => Promise<T>,
  ): Promise<T> => {
    const builders = await Promise.all(
      Array.from({ length: count }, () => startService('package-builder', env)),
    );
    try {
      return await fn(builders);
    } finally {
      await Promise.all(builders.map((b) => b.stop('SIGTERM')));
    }
  };

  try {
    // 1. Full WEB text package, request → ready, and database rows/s.
    if (only.includes('text'))
      await withBuilder(1, async ([builder]) => {
        const text = await build({
          packageType: 'text',
          languageEntityId: 'eng',
          textVersionId: 'web',
        });
        const metrics = await (await fetch(`${builder.url}/metrics`)).text();
        const rows = Number(
          /^bible_package_database_rows_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0,
        );
        const writeSeconds = Number(
          /^bible_package_database_write_seconds_total\{[^}]*\} ([\d.e+-]+)/m.exec(metrics)?.[1] ??
            0,
        );
        const dbSeconds = Number(
          /^bible_package_build_duration_seconds_sum\{[^}]*stage="database"[^}]*\} ([\d.e+-]+)/m.exec(
            metrics,
          )?.[1] ?? 0,
        );
        results.text = {
          requestToReadySeconds: text.seconds,
          databaseRows: rows,
          databaseSeconds: dbSeconds,
          rowsPerSecond: Math.round(rows / dbSeconds),
          sqliteWriteSeconds: writeSeconds,
          sqliteRowsPerSecond: Math.round(rows / writeSeconds),
        };
        log(
          `text: POST → ready ${text.seconds.toFixed(2)} s; database ${rows} rows in ${dbSeconds.toFixed(2)} s = ${Math.round(rows / dbSeconds)} rows/s end to end; SQLite inserts ${writeSeconds.toFixed(2)} s = ${Math.round(rows / writeSeconds)} rows/s`,
        );
      });

    // 2. 1 GiB audio build vs baseline copy; peak RSS for 128 MiB and 1 GiB packages.
    let bigPackageId = '';
    if (only.includes('audio')) {
      const baseline = await baselineCopy(env, s3, keys);
      const rss: Record<string, number> = {};
      const small = await withBuilder(1, async ([b]) => {
        const r = await build({
          packageType: 'audio',
          languageEntityId: 'eng',
          audioVersionId: AUDIO_VERSION,
          books: ['Gen'],
        });
        rss.mib128 = rssOf(b.process.pid as number);
        return r;
      });
      const big = await withBuilder(1, async ([b]) => {
        const r = await build({
          packageType: 'audio',
          languageEntityId: 'eng',
          audioVersionId: AUDIO_VERSION,
        });
        rss.gib1 = rssOf(b.process.pid as number);
        return r;
      });
      results.audio = {
        baselineSeconds: baseline,
        buildSeconds: big.seconds,
        ratio: baseline / big.seconds,
        smallBuildSeconds: small.seconds,
      };
      results.rss = { ...rss, withinPercent: (Math.abs(rss.gib1 - rss.mib128) / rss.mib128) * 100 };
      log(
        `audio 1 GiB: build ${big.seconds.toFixed(1)} s vs baseline copy ${baseline.toFixed(1)} s → ratio ${(baseline / big.seconds).toFixed(2)} (goal ≥ 0.40)`,
      );
      log(
        `builder peak RSS: 128 MiB package ${rss.mib128.toFixed(0)} MiB, 1 GiB package ${rss.gib1.toFixed(0)} MiB`,
      );
      bigPackageId = big.packageId;
    }

    // 3. Scale-out: 8 queued 128 MiB packages (one per book), 1 builder vs 2.
    // The object store shares these cores; its CPU is part of every build's cost here.
    const minioPid = Number(
      execFileSync('pgrep', ['-f', 'minio server'], { encoding: 'utf8' }).split('\n')[0] || 0,
    );
    if (only.includes('scale')) {
      interface ScaleRun {
        builders: number;
        wall: number;
        busy: number;
        machineCpuSeconds: number;
        builderCpuSeconds: number;
        minioCpuSeconds: number;
      }
      const runs: ScaleRun[] = [];
      // Alternating rounds (1, 2, 1, 2, ...) so drifting load on the shared machine hits both.
      for (let round = 0; round < SCALE_ROUNDS; round++) {
        for (const count of [1, 2]) {
          // A distinct request per run (the size cap changes the key; one part either way).
          const chunking = { strategy: 'size', maxSizeMB: 1000 + round * 2 + count };
          runs.push(
            await withBuilder(count, async (builders) => {
              const started = Date.now();
              const cpu0 = machineCpu();
              const builderCpu0 = builders.map((b) => cpuSeconds(b.process.pid as number));
              const minioCpu0 = minioPid ? cpuSeconds(minioPid) : 0;
              await Promise.all(
                BOOKS.map((b) =>
                  build(
                    {
                      packageType: 'audio',
                      languageEntityId: 'eng',
                      audioVersionId: AUDIO_VERSION,
                      books: [b],
                      chunking,
                    },
                    400,
                  ),
                ),
              );
              const wall = (Date.now() - started) / 1000;
              const cpu1 = machineCpu();
              const busy = (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total);
              return {
                builders: count,
                wall,
                busy,
                // Core-seconds the machine spent on the 8 packages (busy share × cores × wall).
                machineCpuSeconds: busy * cpus().length * wall,
                builderCpuSeconds: builders.reduce(
                  (sum, b, i) => sum + cpuSeconds(b.process.pid as number) - builderCpu0[i],
                  0,
                ),
                minioCpuSeconds: minioPid ? cpuSeconds(minioPid) - minioCpu0 : NaN,
              };
            }),
          );
          const last = runs[runs.length - 1];
          log(
            `  round ${round + 1}, ${count} builder(s): ${last.wall.toFixed(1)} s, machine ${(last.busy * 100).toFixed(0)}% busy = ${last.machineCpuSeconds.toFixed(1)} core-s (builders ${last.builderCpuSeconds.toFixed(1)}, MinIO ${last.minioCpuSeconds.toFixed(1)})`,
          );
        }
      }
      const medianOf = (count: number, pick: (r: ScaleRun) => number) =>
        median(runs.filter((r) => r.builders === count).map(pick));
      const one = medianOf(1, (r) => r.wall);
      const two = medianOf(2, (r) => r.wall);
      const coreSeconds1 = medianOf(1, (r) => r.machineCpuSeconds);
      // With the machine's CPU as the only limit, 2 builders can at best spend one builder's
      // core-seconds on both cores at once: ceiling = wall(1 builder) / (core-seconds / cores).
      const ceiling = median(
        runs
          .filter((r) => r.builders === 1)
          .map((r) => r.wall / (r.machineCpuSeconds / cpus().length)),
      );
      results.scale = { runs, builders1: one, builders2: two, speedup: one / two, ceiling };
      log(
        `  medians: machine ${coreSeconds1.toFixed(1)} core-s with 1 builder (builder ${medianOf(1, (r) => r.builderCpuSeconds).toFixed(1)}, MinIO ${medianOf(1, (r) => r.minioCpuSeconds).toFixed(1)}), ${medianOf(2, (r) => r.machineCpuSeconds).toFixed(1)} core-s with 2 → CPU ceiling for 2 builders ${ceiling.toFixed(2)}×`,
      );
      log(
        `8 packages (median of ${SCALE_ROUNDS}): 1 builder ${one.toFixed(1)} s, 2 builders ${two.toFixed(1)} s → ${(one / two).toFixed(2)}×`,
      );
    }

    // 4. Downloads: gateway vs direct presigned GET of the 1 GiB package; 50 concurrent.
    if (only.includes('download')) {
      if (!bigPackageId) {
        bigPackageId = (
          await withBuilder(1, () =>
            build({ packageType: 'audio', languageEntityId: 'eng', audioVersionId: AUDIO_VERSION }),
          )
        ).packageId;
      }
      const url = `${gateway.url}/v1/packages/${bigPackageId}/download`;
      const redirect = await fetch(`${url}?redirect=1`, {
        headers: { authorization: `Bearer ${token}` },
        redirect: 'manual',
      });
      const direct = redirect.headers.get('location') as string;
      const curl = (args: string[]) =>
        Number(
          execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{time_total}', ...args], {
            encoding: 'utf8',
          }),
        );
      // Alternating pairs so drift in machine load hits both sides alike; medians of 5.
      const gatewayRuns: number[] = [];
      const directRuns: number[] = [];
      for (let i = 0; i < 5; i++) {
        gatewayRuns.push(curl(['-H', `authorization: Bearer ${token}`, url]));
        directRuns.push(curl([direct]));
      }
      const viaGateway = median(gatewayRuns);
      const viaDirect = median(directRuns);
      log(
        `  gateway runs ${gatewayRuns.map((x) => x.toFixed(2)).join(' ')} s; direct runs ${directRuns.map((x) => x.toFixed(2)).join(' ')} s`,
      );
      const textId = (
        await withBuilder(1, () =>
          build({ packageType: 'text', languageEntityId: 'eng', textVersionId: 'web' }),
        )
      ).packageId;
      const started = Date.now();
      const statuses = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const res = await fetch(`${gateway.url}/v1/packages/${textId}/download`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const body = Buffer.from(await res.arrayBuffer());
          return `${res.status}:${createHash('sha256').update(body).digest('hex')}`;
        }),
      );
      const concurrentSeconds = (Date.now() - started) / 1000;
      const errors = statuses.filter((s) => !s.startsWith('200:')).length;
      const distinct = new Set(statuses).size;
      results.download = {
        gatewaySeconds: viaGateway,
        directSeconds: viaDirect,
        gatewayRuns,
        directRuns,
        ratio: viaDirect / viaGateway,
        concurrent: 50,
        concurrentErrors: errors,
        distinctBodies: distinct,
        concurrentSeconds,
        gatewayPeakRssMiB: rssOf(gateway.process.pid as number),
      };
      log(
        `download 1 GiB: gateway ${viaGateway.toFixed(2)} s vs direct ${viaDirect.toFixed(2)} s → ratio ${(viaDirect / viaGateway).toFixed(2)} (goal ≥ 0.70)`,
      );
      log(
        `50 concurrent downloads of the text package: ${errors} errors, ${distinct} distinct bodies, ${concurrentSeconds.toFixed(1)} s; gateway peak RSS ${rssOf(gateway.process.pid as number).toFixed(0)} MiB`,
      );
    }
  } catch (error) {
    process.stderr.write(`gateway output:\n${gateway.output().slice(-3000)}\n`);
    throw error;
  } finally {
    await gateway.stop('SIGTERM');
    await db.end();
  }
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `pipeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  log(`results: ${file}`);
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
