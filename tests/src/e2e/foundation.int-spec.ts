// Foundation (issue #2): every service boots as a real process against the real stack, answers
// health and metrics, validates its config at boot, follows its dependencies' outages without a
// restart, and shuts down cleanly on SIGTERM.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshTestDataSource } from '@bible/common/database/testing';
import {
  type RunningService,
  type ServiceName,
  freePort,
  spawnService,
  startService,
  testEnv,
  throwawayPostgres,
  throwawayRedis,
  waitForStatus,
} from '@bible/testing';

const services: ServiceName[] = ['api-gateway', 'package-builder', 'sync-service', 'notifier'];

before(async () => {
  // Services expect a migrated schema (the stack migrates before it starts them).
  const db = await freshTestDataSource(testEnv().DATABASE_URL);
  await db.destroy();
});

describe('every service boots, is healthy and exposes metrics', () => {
  const running: RunningService[] = [];

  before(async () => {
    const env = testEnv({ LOG_LEVEL: 'info' });
    running.push(...(await Promise.all(services.map((name) => startService(name, env)))));
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop('SIGKILL')));
  });

  for (const [index, name] of services.entries()) {
    it(`${name}: /health/live and /health/ready answer 200`, async () => {
      const service = running[index];
      const live = await fetch(`${service.url}/health/live`);
      assert.equal(live.status, 200);
      const ready = await fetch(`${service.url}/health/ready`);
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as {
        status: string;
        info: Record<string, { status: string }>;
      };
      assert.equal(body.status, 'ok');
      assert.ok(body.info.postgres, 'readiness checks postgres');
      assert.ok(body.info.redis, 'readiness checks redis');
    });

    it(`${name}: /metrics serves Prometheus text with default and HTTP metrics`, async () => {
      const service = running[index];
      await fetch(`${service.url}/health/live`);
      const res = await fetch(`${service.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
      const text = await res.text();
      assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
      assert.match(text, /^http_requests_total\{.*route="\/health\/live".*\} \d+/m);
      assert.match(text, new RegExp(`service="${name}"`));
      // The runtime the process really runs on: the project's Node 24, the one running this test.
      const version = /^nodejs_version_info\{version="(v[\d.]+)",major="(\d+)"/m.exec(text);
      assert.ok(version, 'nodejs_version_info is exported');
      assert.equal(version[1], process.version);
      assert.ok(Number(version[2]) >= 24, `Node ${version[1]} is older than 24`);
    });

    it(`${name}: writes structured JSON logs`, () => {
      const lines = running[index].output().split('\n').filter(Boolean);
      assert.ok(lines.length > 0);
      for (const line of lines) {
        const entry = JSON.parse(line) as { level: string; service: string; time: string };
        assert.equal(entry.service, name);
        assert.ok(entry.level && entry.time);
      }
      const start = lines
        .map((line) => JSON.parse(line) as { node?: string; msg?: string })
        .find((entry) => entry.node);
      assert.equal(start?.node, process.version, 'the Node version is logged at start');
    });
  }

  it('the gateway writes one access line per request with its id and trace, none for probes', async () => {
    const gateway = running[0];
    const before = gateway.output().length;
    const requestId = `foundation-${Date.now()}`;
    await fetch(`${gateway.url}/health/live`);
    const res = await fetch(`${gateway.url}/v1/openapi.json?probe=1`, {
      headers: { 'x-request-id': requestId },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    let entries: { msg?: string; req?: { id?: string; path?: string }; trace_id?: string }[] = [];
    for (let i = 0; i < 50 && !entries.some((e) => e.req?.id === requestId); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      entries = gateway
        .output()
        .slice(before)
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as (typeof entries)[number]);
    }
    const access = entries.filter((e) => e.msg === 'request completed');
    const line = access.find((e) => e.req?.id === requestId);
    assert.ok(line, 'an access line carries the X-Request-Id');
    assert.equal(line.req?.path, '/v1/openapi.json', 'the query string is not logged');
    assert.match(line.trace_id ?? '', /^(?!0{32})[0-9a-f]{32}$/, 'a real trace id');
    assert.ok(!access.some((e) => e.req?.path?.startsWith('/health')), 'probes are not logged');
  });

  it('the gateway readiness also checks the object store', async () => {
    const res = await fetch(`${running[0].url}/health/ready`);
    const body = (await res.json()) as { info: Record<string, unknown> };
    assert.ok(body.info['object-store']);
  });
});

describe('config is validated once at boot', () => {
  for (const name of services) {
    it(`${name} started with DATABASE_URL=notaurl exits non-zero naming DATABASE_URL`, async () => {
      const service = spawnService(name, testEnv({ DATABASE_URL: 'notaurl' }), await freePort());
      const code = await service.exited;
      assert.notEqual(code, 0);
      assert.match(service.output(), /DATABASE_URL/);
      assert.doesNotMatch(
        service.output(),
        /notaurl/,
        'values are never echoed (they may be secrets)',
      );
    });
  }

  it('a missing REDIS_URL is named too', async () => {
    const service = spawnService(
      'sync-service',
      testEnv({ REDIS_URL: undefined }),
      await freePort(),
    );
    assert.notEqual(await service.exited, 0);
    assert.match(service.output(), /REDIS_URL: is required/);
  });
});

describe('readiness follows dependency outages without a restart', () => {
  it('Postgres or Redis stopped → 503 within 5 s, back to 200 after, liveness stays 200', async () => {
    const redis = await throwawayRedis();
    const postgres = await throwawayPostgres();
    const service = await startService(
      'sync-service',
      testEnv({ DATABASE_URL: postgres.url, REDIS_URL: redis.url }),
    );
    try {
      for (const dependency of [postgres, redis]) {
        await dependency.stop();
        const toDown = await waitForStatus(`${service.url}/health/ready`, 503, 5_000);
        assert.ok(toDown <= 5_000, `readiness turned 503 after ${toDown} ms`);
        assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
        await dependency.start();
        await waitForStatus(`${service.url}/health/ready`, 200, 20_000);
      }
      assert.equal(service.process.exitCode, null, 'the service was not restarted');
    } finally {
      await service.stop('SIGKILL');
      await Promise.all([redis.destroy(), postgres.destroy()]);
    }
  });
});

describe('graceful shutdown', () => {
  for (const name of services) {
    it(`${name} exits 0 on SIGTERM`, async () => {
      const service = await startService(name, testEnv({ LOG_LEVEL: 'info' }));
      const started = Date.now();
      const code = await service.stop('SIGTERM');
      assert.ok(Date.now() - started < 5_000, `shutdown took ${Date.now() - started} ms`);
      assert.equal(code, 0, service.output().slice(-2000));
      assert.match(service.output(), /shutdown complete/);
    });
  }
});
