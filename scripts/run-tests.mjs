#!/usr/bin/env node
// Runs the compiled node:test suites.
// Usage: node scripts/run-tests.mjs [unit|integration|all] [--under=DIR/] [--allow-empty] [path-filter...]
//   --under=DIR/   only files below DIR (a project root; Nx's per-project test target)
//   --allow-empty  no matching file is a pass with 0 tests (a project without unit tests)
// Unit tests are `*.spec.js`; integration tests (real Postgres, Redis, object store, service processes) are `*.int-spec.js`.
// Prints node's spec output and ends with `N passed, N failed` (read by CI).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, statSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
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

/**
 * Integration runs start from empty queues and rate-limit windows: what an earlier run left under
 * the test database's Redis prefix (waiting jobs, an hour of downloads from 127.0.0.1) would
 * change what the suites see. Only this database's prefix and the ones derived from it.
 */
async function clearTestPrefix() {
  const require = createRequire(import.meta.url);
  let env;
  try {
    env = require(join(root, 'libs/testing/dist/index.js')).testEnv();
  } catch {
    return; // no stack settings: the suites report what is missing
  }
  const { Redis } = require('ioredis');
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let removed = 0;
    for (const match of [`${env.QUEUE_PREFIX}:*`, `${env.QUEUE_PREFIX}-*`])
      for await (const keys of redis.scanStream({ match, count: 1000 }))
        if (keys.length > 0) removed += await redis.unlink(...keys);
    if (removed > 0) console.log(`cleared ${removed} Redis keys left under ${env.QUEUE_PREFIX}`);
  } catch (error) {
    console.error(`could not clear ${env.QUEUE_PREFIX} in Redis: ${error.message}`);
  } finally {
    redis.disconnect();
  }
}
if (kind === 'integration') await clearTestPrefix();

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
