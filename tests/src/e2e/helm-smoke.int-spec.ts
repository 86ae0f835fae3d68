// The chart's `helm test` smoke check (helm/bible-packages/files/smoke.mjs, which
// templates/tests/smoke.yaml runs in the api-gateway image) against a real gateway: it passes on
// a healthy release and fails, with the reason, on a bad or missing token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type RunningService, repoRoot, startService } from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

const SCRIPT = join(repoRoot, 'helm/bible-packages/files/smoke.mjs');

/** Runs the smoke script as the test pod would (its env only), returning exit code and output. */
function runSmoke(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('helm test smoke check', { timeout: 3 * 60_000 }, () => {
  let env: Record<string, string>;
  let gateway: RunningService | undefined;

  before(async () => {
    env = await seededTestDatabase();
    gateway = await startService('api-gateway', env);
  });

  after(async () => {
    await gateway?.stop('SIGKILL');
  });

  it('passes against a healthy gateway: readiness, OpenAPI, one catalog read', async () => {
    const { code, output } = await runSmoke({
      SMOKE_BASE_URL: gateway!.url,
      JWT_SECRET: env.JWT_SECRET,
    });
    assert.equal(code, 0, output);
    assert.match(output, /GET \/health\/ready: 200/);
    assert.match(output, /GET \/v1\/openapi.json: 200/);
    assert.match(output, /smoke test passed: 1 language\(s\) on the first page/);
  });

  it('fails on a token the gateway rejects, and without any token', async () => {
    const rejected = await runSmoke({
      SMOKE_BASE_URL: gateway!.url,
      SMOKE_BEARER_TOKEN: 'not-a-token',
    });
    assert.equal(rejected.code, 1, rejected.output);
    assert.match(rejected.output, /GET \/v1\/languages\?limit=1: HTTP 401/);
    const missing = await runSmoke({ SMOKE_BASE_URL: gateway!.url });
    assert.equal(missing.code, 1, missing.output);
    assert.match(missing.output, /no bearer token: set tests.tokenSecret/);
  });

  it('fails when the gateway is not ready', async () => {
    const { code, output } = await runSmoke({
      SMOKE_BASE_URL: 'http://127.0.0.1:9',
      JWT_SECRET: env.JWT_SECRET,
    });
    assert.equal(code, 1, output);
    assert.match(output, /fetch failed|ECONNREFUSED/);
  });
});
