// Load test of the gateway (issue 14, item 10; docs/benchmarks.md).
//
//   npm run build && npx tsc -p bench/gateway
//   node bench/gateway/dist/run.js [--seconds 10] [--connections 50,500]
//
// The database at BENCH_DATABASE_URL (default TEST_DATABASE_URL) is RESET and seeded, one package
// (1 MiB object) is published straight into it, and one gateway runs as a process. autocannon
// (from npm, in this process) drives a fixed mix, in turn on every connection: a catalog read
// (GET /v1/languages), package metadata (GET /v1/packages/{id}) and a 1 KiB range download
// (GET /v1/packages/{id}/download, Range: bytes=0-1023), all with a bearer token. The baseline,
// measured in the same run at the same connection counts, is a plain Node HTTP server (its own
// process) answering a cached 1 KiB body. For each: requests/s, requests/s per core the server
// process used (CPU time from /proc over the run), p50/p99 latency and errors (non-2xx included).
// Results go to bench/results/gateway-<timestamp>.json (git-ignored).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { createS3Client } from '@bible/storage';
import { resetTestDatabase } from '@bible/common/database/testing';
import { freePort, repoRoot, startService, testEnv, tokenFor } from '@bible/testing';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
// autocannon ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (
  options: Record<string, unknown>,
) => Promise<AutocannonResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runSeed } = require(join(repoRoot, 'scripts', 'dist', 'seed', 'run-seed')) as {
  runSeed: (options: Record<string, unknown>) => Promise<unknown>;
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const SECONDS = Number(arg('seconds', '10'));
const CONNECTIONS = arg('connections', '50,500').split(',').map(Number);
const log = (msg: string) => process.stderr.write(`[gateway-bench] ${msg}\n`);

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A plain Node HTTP server answering a cached body: the ceiling of one Node process here. */
async function startBaseline(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const body = Buffer.alloc(1024, 97);
       require('node:http').createServer((req, res) => {
         res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
         res.end(body);
       }).listen(${port}, '127.0.0.1', () => console.log('ready'));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await once(child.stdout as NodeJS.ReadableStream, 'data');
  return { url: `http://127.0.0.1:${port}`, child };
}

async function measure(
  pid: number,
  options: Record<string, unknown>,
): Promise<Record<string, number>> {
  const before = cpuSeconds(pid);
  const result = await autocannon({ ...options, duration: SECONDS });
  const cores = (cpuSeconds(pid) - before) / result.duration;
  return {
    requestsPerSecond: Math.round(result.requests.average),
    requestsPerCore: Math.round(result.requests.average / Math.max(cores, 0.01)),
    serverCores: Math.round(cores * 100) / 100,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

async function main(): Promise<void> {
  const stack = testEnv();
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? stack.DATABASE_URL;
  const s3Config = {
    S3_ENDPOINT: stack.S3_ENDPOINT,
    S3_REGION: stack.S3_REGION,
    S3_ACCESS_KEY_ID: stack.S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY: stack.S3_SECRET_ACCESS_KEY,
    S3_BUCKET: stack.S3_BUCKET,
    S3_FORCE_PATH_STYLE: true,
  };
  await resetTestDatabase(databaseUrl);
  await runSeed({ databaseUrl, migrate: true, log: () => undefined, s3: s3Config });

  // One published package: a 1 MiB object and its row, as a build would leave them.
  const bytes = randomBytes(1024 * 1024);
  const packageId = `eng-web-bench-${Date.now()}`;
  const objectKey = `packages/${packageId}.bible`;
  const s3 = createS3Client(s3Config);
  await s3.send(new PutObjectCommand({ Bucket: stack.S3_BUCKET, Key: objectKey, Body: bytes }));
  s3.destroy();
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(
    `INSERT INTO package_generations (package_id, package_key, package_type, language_entity_id,
       text_version_id, content_revision, status, object_key, size_bytes, content_sha256, manifest, ready_at)
     VALUES ($1, $2, 'text', 'eng', 'web', '1:1', 'ready', $3, $4, $5, '{}', now())`,
    [
      packageId,
      `bench-${packageId}`,
      objectKey,
      bytes.length,
      createHash('sha256').update(bytes).digest('hex'),
    ],
  );
  await db.end();

  const many = '1000000000';
  const gateway = await startService('api-gateway', {
    ...stack,
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: `bench-gw-${Date.now().toString(36)}`,
    LOG_LEVEL: 'warn',
    HTTP_MAX_CONNECTIONS_PER_IP: '0',
    RATE_LIMIT_DEFAULT_PER_IP_HOUR: many,
    RATE_LIMIT_DOWNLOADS_PER_USER_HOUR: many,
    RATE_LIMIT_DOWNLOADS_PER_IP_HOUR: many,
  });
  const baseline = await startBaseline();
  const token = await tokenFor(stack.JWT_SECRET, 'gateway-bench');
  const headers = { authorization: `Bearer ${token}` };
  const requests = [
    { method: 'GET', path: '/v1/languages?limit=20', headers },
    { method: 'GET', path: `/v1/packages/${packageId}`, headers },
    {
      method: 'GET',
      path: `/v1/packages/${packageId}/download`,
      headers: { ...headers, range: 'bytes=0-1023' },
    },
  ];
  const results: Record<string, unknown> = {
    seconds: SECONDS,
    mix: 'catalog read, package metadata, 1 KiB range download (in turn on each connection)',
  };
  try {
    // Warm both (JIT, pools, caches) before measuring.
    await autocannon({ url: gateway.url, connections: 10, duration: 3, requests });
    await autocannon({ url: baseline.url, connections: 10, duration: 2 });
    for (const connections of CONNECTIONS) {
      log(`${connections} connections: baseline`);
      const base = await measure(baseline.child.pid as number, { url: baseline.url, connections });
      log(`${connections} connections: gateway`);
      const gw = await measure(gateway.process.pid as number, {
        url: gateway.url,
        connections,
        requests,
      });
      results[`c${connections}`] = {
        baseline: base,
        gateway: gw,
        perCoreRatio: Math.round((gw.requestsPerCore / base.requestsPerCore) * 1000) / 1000,
      };
      log(JSON.stringify(results[`c${connections}`]));
    }
    const dir = resolve(__dirname, '..', '..', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `gateway-${Date.now()}.json`), JSON.stringify(results, null, 2));
    console.log(JSON.stringify(results, null, 2));
  } finally {
    baseline.child.kill('SIGKILL');
    await gateway.stop('SIGKILL');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
