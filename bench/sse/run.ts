// Cost of idle Server-Sent Event clients on the gateway (issue 14, item 8; docs/benchmarks.md).
//
//   npm run build && npx tsc -p bench/sse
//   node bench/sse/dist/run.js [--clients 1000] [--seconds 30]
//
// The database at BENCH_DATABASE_URL (default TEST_DATABASE_URL) is RESET and seeded. One gateway
// runs as a process on its own queue namespace (no builder, so the requested build stays queued
// and its status does not change). Measured from /proc: the gateway's CPU time (user + system)
// over `--seconds` with no client (baseline), then with `--clients` SSE clients connected to the
// job's event stream and idle (heartbeat comments every 15 s are included in the window).
// Results go to bench/results/sse-<timestamp>.json (git-ignored).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { resetTestDatabase } from '@bible/common/database/testing';
import { repoRoot, startService, testEnv, tokenFor } from '@bible/testing';

// The seed script's build, loaded at run time (bench/sse/dist is not next to scripts/).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runSeed } = require(join(repoRoot, 'scripts', 'dist', 'seed', 'run-seed')) as {
  runSeed: (options: Record<string, unknown>) => Promise<unknown>;
};

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const CLIENTS = arg('clients', 1_000);
const SECONDS = arg('seconds', 30);
const CLOCK_TICKS = 100;
const log = (msg: string) => process.stderr.write(`[sse-bench] ${msg}\n`);

/** CPU seconds (user + system) and RSS of a process, from /proc. */
function usage(pid: number): { cpu: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const rssPages = Number(fields[21]);
  return { cpu, rssMiB: Math.round((rssPages * 4096) / 1048576) };
}

async function idleWindow(pid: number): Promise<{ corePercent: number; rssMiB: number }> {
  const before = usage(pid);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const after = usage(pid);
  const wall = (performance.now() - started) / 1000;
  return {
    corePercent: Math.round(((after.cpu - before.cpu) / wall) * 1000) / 10,
    rssMiB: after.rssMiB,
  };
}

async function main(): Promise<void> {
  const stack = testEnv();
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? stack.DATABASE_URL;
  await resetTestDatabase(databaseUrl);
  await runSeed({
    databaseUrl,
    migrate: true,
    log: () => undefined,
    s3: {
      S3_ENDPOINT: stack.S3_ENDPOINT,
      S3_REGION: stack.S3_REGION,
      S3_ACCESS_KEY_ID: stack.S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: stack.S3_SECRET_ACCESS_KEY,
      S3_BUCKET: stack.S3_BUCKET,
      S3_FORCE_PATH_STYLE: true,
    },
  });
  const gateway = await startService('api-gateway', {
    ...stack,
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: `bench-sse-${Date.now().toString(36)}`,
    HTTP_MAX_CONNECTIONS_PER_IP: '0',
    RATE_LIMIT_DEFAULT_PER_IP_HOUR: '100000000',
    RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
    LOG_LEVEL: 'warn',
  });
  const pid = gateway.process.pid as number;
  const token = await tokenFor(stack.JWT_SECRET, 'sse-bench');
  try {
    const posted = await fetch(`${gateway.url}/v1/packages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ packageType: 'text', languageEntityId: 'eng', textVersionId: 'web' }),
    });
    const { jobId } = (await posted.json()) as { jobId: string };
    log(`job ${jobId}; baseline: no clients for ${SECONDS} s`);
    await new Promise((r) => setTimeout(r, 2_000));
    const baseline = await idleWindow(pid);

    log(`opening ${CLIENTS} SSE clients`);
    const opened = performance.now();
    // Clients arrive in waves of 100 (each first answer reads the job's status).
    const open = () =>
      new Promise<() => void>((resolveOpen, reject) => {
        const req = request(
          `${gateway.url}/v1/packages/jobs/${jobId}/events`,
          { agent: false, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
            res.once('data', () => resolveOpen(() => req.destroy()));
            res.resume();
          },
        );
        req.on('error', reject);
        req.end();
      });
    const requests: (() => void)[] = [];
    while (requests.length < CLIENTS)
      requests.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, CLIENTS - requests.length) }, open),
        )),
      );
    const openSeconds = (performance.now() - opened) / 1000;
    log(
      `${CLIENTS} clients got their first event in ${openSeconds.toFixed(1)} s; idle ${SECONDS} s`,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const withClients = await idleWindow(pid);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const streams = Number(/^bible_sse_streams(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1]);
    for (const close of requests) close();

    const result = {
      clients: CLIENTS,
      seconds: SECONDS,
      openSeconds: Math.round(openSeconds * 10) / 10,
      streamsOpen: streams,
      baseline,
      withClients,
      extraCorePercent: Math.round((withClients.corePercent - baseline.corePercent) * 10) / 10,
    };
    const dir = resolve(__dirname, '..', '..', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `sse-${Date.now()}.json`), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await gateway.stop('SIGKILL');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
