#!/usr/bin/env node
// Runs the compiled node:test suites.
// Usage: node scripts/run-tests.mjs [unit|integration|all] [--under=DIR/] [--allow-empty] [path-filter...]
//   --under=DIR/   only files below DIR (a project root; Nx's per-project test target)
//   --allow-empty  no matching file is a pass with 0 tests (a project without unit tests)
// Unit tests are `*.spec.js`; integration tests (real Postgres, Redis, object store, service processes) are `*.int-spec.js`.
// Prints node's spec output and ends with `N passed, N failed` (read by CI).
//
// Integration files run in INTEGRATION_LANES lanes at once (default 2; 1 runs them one by one):
// the suites mostly wait on processes and timers, so two lanes nearly halve the wall time on two
// cores. Each lane has a stack of its own: lane 0 the test database and the stack's bucket, lane N
// the Postgres cluster `up.sh --test-lanes` started (TEST_LANE<N>_DATABASE_URL) and the bucket
// `<bucket>-lane<N>` (created here), and with them its own Redis prefix (libs/testing derives it
// from the database name). Files go longest first
// (durations of the last run on this machine, else tests/integration-durations.json) to the next
// free lane; each file's output is printed whole when it ends.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const options = process.argv.slice(2).filter((a) => a.startsWith('--'));
const [kind = 'all', ...filters] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const under = options.find((o) => o.startsWith('--under='))?.slice('--under='.length);
const allowEmpty = options.includes('--allow-empty');
const roots = ['libs', 'services', 'scripts', 'tests', 'bench'].map((d) => join(root, d));

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (full.includes('/dist/')) out.push(full);
  }
  return out;
}

const all = roots.flatMap((r) => walk(r, []));
const wanted = all
  .filter((f) => {
    if (kind === 'unit') return f.endsWith('.spec.js') && !f.endsWith('.int-spec.js');
    if (kind === 'integration') return f.endsWith('.int-spec.js');
    return f.endsWith('.spec.js');
  })
  .filter((f) => !under || relative(root, f).startsWith(under))
  .filter((f) => filters.length === 0 || filters.some((p) => relative(root, f).includes(p)))
  .sort();

if (wanted.length === 0 && allowEmpty) {
  console.log(`${kind}: 0 passed, 0 failed`);
  process.exit(0);
}
if (wanted.length === 0) {
  console.error(`no ${kind} test files found (did you run npm run build?)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const require = createRequire(import.meta.url);

/** The stack settings of the test database (libs/testing), or undefined without a stack. */
function stackEnv(overrides = {}) {
  try {
    return require(join(root, 'libs/testing/dist/index.js')).testEnv(overrides);
  } catch {
    return undefined; // no stack settings: the suites report what is missing
  }
}

/**
 * Integration runs start from empty queues and rate-limit windows: what an earlier run left under
 * the test database's Redis prefix (waiting jobs, an hour of downloads from 127.0.0.1) would
 * change what the suites see. Only this database's prefix and the ones derived from it.
 */
async function clearTestPrefix(env, quiet = false) {
  const { Redis } = require('ioredis');
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let removed = 0;
    for (const match of [`${env.QUEUE_PREFIX}:*`, `${env.QUEUE_PREFIX}-*`])
      for await (const keys of redis.scanStream({ match, count: 1000 }))
        if (keys.length > 0) removed += await redis.unlink(...keys);
    if (removed > 0 && !quiet)
      console.log(`cleared ${removed} Redis keys left under ${env.QUEUE_PREFIX}`);
  } catch (error) {
    console.error(`could not clear ${env.QUEUE_PREFIX} in Redis: ${error.message}`);
  } finally {
    redis.disconnect();
  }
}

/**
 * Lane N's stack: its Postgres cluster (scripts/stack/up.sh --test-lanes; a cluster, not only a
 * database, so one lane's long transactions never hold back the other's feeds) and its bucket,
 * created here. Undefined when the stack was started without that lane.
 */
async function prepareLane(base, lane) {
  const databaseUrl = base[`TEST_LANE${lane}_DATABASE_URL`];
  if (!databaseUrl) return undefined;
  const overrides = {
    TEST_DATABASE_URL: databaseUrl,
    S3_BUCKET: `${base.S3_BUCKET}-lane${lane}`,
    // The sync suites flush a Redis database of their own (tests/src/e2e/sync-harness.ts, 13 by
    // default): one per lane, or one lane's flush wipes the other's schedulers.
    SYNC_TEST_REDIS_DB: String(13 - lane),
  };
  const { createS3Client } = require(join(root, 'libs/storage/dist/index.js'));
  const { ensureBucket } = require(join(root, 'scripts/dist/seed/object-store.js'));
  const s3 = createS3Client({ ...base, S3_FORCE_PATH_STYLE: true }, 2);
  try {
    await ensureBucket(s3, overrides.S3_BUCKET);
  } finally {
    s3.destroy();
  }
  return overrides;
}

const durationsFile = join(root, '.stack', 'test-logs', 'integration-durations.json');
function knownDurations() {
  for (const file of [durationsFile, join(root, 'tests', 'integration-durations.json')])
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  return {};
}

function tapCounts(tapFile) {
  const tap = readFileSync(tapFile, 'utf8');
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)`, 'm').exec(tap)?.[1] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled') };
}

/** Runs the files over `lanes` lanes; resolves with the totals and whether every file exited 0. */
async function runLanes(files, laneEnvs) {
  const known = knownDurations();
  // Unknown files first (they may be long), then longest first.
  const weight = (f) => known[relative(root, f)] ?? Infinity;
  const queue = [...files].sort((a, b) => {
    const wa = weight(a);
    const wb = weight(b);
    return wa === wb ? a.localeCompare(b) : wb - wa;
  });
  const scratch = mkdtempSync(join(tmpdir(), 'bible-lanes-'));
  const children = new Set();
  const stop = () => {
    queue.length = 0;
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const totals = { passed: 0, failed: 0, ok: true };
  const measured = {};
  const started = Date.now();
  const lane = async (n) => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const name = relative(root, file);
      const tap = join(scratch, `${name.replaceAll('/', '_')}.tap`);
      const t0 = Date.now();
      // Each file starts from the empty Redis prefix a run starts from: the queues, schedulers
      // and rate-limit windows (an hour of downloads from 127.0.0.1) the files before it in this
      // lane left would otherwise make a suite depend on the order.
      const laneEnv = stackEnv(laneEnvs[n]);
      if (laneEnv) await clearTestPrefix(laneEnv, true);
      console.log(`▷ lane ${n}: ${name}`);
      const child = spawn(
        process.execPath,
        [
          '--test',
          '--test-reporter=spec',
          '--test-reporter-destination=stdout',
          '--test-reporter=tap',
          `--test-reporter-destination=${tap}`,
          name,
        ],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...laneEnvs[n] } },
      );
      children.add(child);
      const output = [];
      child.stdout.on('data', (d) => output.push(d));
      child.stderr.on('data', (d) => output.push(d));
      const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
      children.delete(child);
      const seconds = (Date.now() - t0) / 1000;
      measured[name] = Math.round(seconds * 10) / 10;
      let counts = { passed: 0, failed: 1 };
      try {
        counts = tapCounts(tap);
      } catch {
        // no TAP file: the process died before reporting; counted as one failure
      }
      if (code !== 0 && counts.failed === 0) counts.failed = 1;
      totals.passed += counts.passed;
      totals.failed += counts.failed;
      totals.ok &&= code === 0;
      process.stdout.write(Buffer.concat(output));
      console.log(
        `◁ lane ${n}: ${name} ${code === 0 ? 'ok' : 'FAILED'} in ${seconds.toFixed(1)} s (${counts.passed} passed, ${counts.failed} failed)\n`,
      );
    }
  };
  await Promise.all(laneEnvs.map((_, n) => lane(n)));
  rmSync(scratch, { recursive: true, force: true });
  console.log(
    `integration files ran in ${laneEnvs.length} lanes in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  mkdirSync(join(root, '.stack', 'test-logs'), { recursive: true });
  const all = { ...knownDurations(), ...measured };
  const sorted = Object.fromEntries(
    Object.keys(all)
      .sort()
      .map((k) => [k, all[k]]),
  );
  writeFileSync(durationsFile, `${JSON.stringify(sorted, null, 2)}\n`);
  return totals;
}

if (kind === 'integration') {
  const base = stackEnv();
  const lanes = Math.max(
    1,
    Math.min(Number(process.env.INTEGRATION_LANES ?? 2) || 1, wanted.length),
  );
  const laneEnvs = [{}];
  if (base) {
    for (let n = 1; n < lanes; n++) {
      const overrides = await prepareLane(base, n);
      if (!overrides) {
        console.log(`lane ${n}: no TEST_LANE${n}_DATABASE_URL (up.sh --test-lanes); fewer lanes`);
        break;
      }
      laneEnvs.push(overrides);
    }
    for (const overrides of laneEnvs) await clearTestPrefix(stackEnv(overrides));
  }
  if (laneEnvs.length > 1) {
    const totals = await runLanes(wanted, laneEnvs);
    console.log(`${kind}: ${totals.passed} passed, ${totals.failed} failed`);
    process.exit(totals.ok && totals.failed === 0 ? 0 : 1);
  }
}

const tapFile = join(mkdtempSync(join(tmpdir(), 'bible-tests-')), 'results.tap');
const args = [
  '--test',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  // Integration suites share one database and stack: run their files one at a time.
  ...(kind === 'unit' ? [] : ['--test-concurrency=1']),
  ...wanted.map((f) => relative(root, f)),
];
// Nx runs several projects' tests at once: each run gets a temporary folder of its own, so a
// test that checks what it left in the temporary folder never sees another project's files.
const env = under
  ? { ...process.env, TMPDIR: mkdtempSync(join(tmpdir(), 'bible-unit-')) }
  : process.env;
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env });
child.on('exit', (code, signal) => {
  let passed = 0;
  let failed = 0;
  try {
    const tap = readFileSync(tapFile, 'utf8');
    passed = Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0);
    failed = Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0);
    failed += Number(/^# cancelled (\d+)/m.exec(tap)?.[1] ?? 0);
  } catch {
    failed = Math.max(failed, 1);
  }
  if (code !== 0 && failed === 0) failed = 1;
  if (env !== process.env) rmSync(env.TMPDIR, { recursive: true, force: true });
  console.log(`${kind}: ${passed} passed, ${failed} failed`);
  process.exit(code ?? (signal ? 1 : 0));
});
