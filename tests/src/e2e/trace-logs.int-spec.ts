// Traces and logs that join up (issue 16), with no OTLP endpoint configured, as in the local
// stack: the response to POST /v1/packages names its trace in `traceparent`, the gateway's access
// line for it and the builder's log lines for the build carry that same non-zero trace id, and an
// incoming `traceparent` is continued rather than replaced.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type RunningService, apiClient, eventually, startService, tokenFor } from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

interface LogLine {
  msg?: string;
  service?: string;
  trace_id?: string;
  span_id?: string;
  jobId?: string;
  req?: { method?: string; path?: string };
  res?: { statusCode?: number };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;
const REAL_TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
const REAL_SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/;

const logLines = (service: RunningService): LogLine[] =>
  service
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

describe('traces and logs join up without an exporter', { timeout: 5 * 60_000 }, () => {
  let gateway: RunningService;
  let builder: RunningService;
  let token: string;

  before(async () => {
    const env = await seededTestDatabase();
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    const logged = { ...env, LOG_LEVEL: 'info' };
    [gateway, builder] = await Promise.all([
      startService('api-gateway', {
        ...logged,
        RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
        RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
      }),
      startService('package-builder', logged),
    ]);
    token = await tokenFor(env.JWT_SECRET, 'trace-logs-e2e', 'admin');
  });

  after(async () => {
    await Promise.all([gateway, builder].map((s) => s?.stop('SIGKILL')));
  });

  /** Requests a build, waits for it and returns the trace id of each party. */
  const build = async (books: string[], headers: Record<string, string> = {}) => {
    const res = await fetch(`${gateway.url}/v1/packages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({
        packageType: 'text',
        languageEntityId: 'eng',
        textVersionId: 'web',
        books,
      }),
    });
    const body = (await res.json()) as { jobId: string };
    assert.equal(res.status, 202, JSON.stringify(body));
    const traceparent = res.headers.get('traceparent') ?? '';
    assert.match(traceparent, TRACEPARENT, 'the response carries traceparent');
    const [, responseTraceId] = TRACEPARENT.exec(traceparent) ?? [];

    const api = apiClient(gateway.url, token);
    const job = await eventually(
      async () => {
        const status = await api.get<{ status: string }>(`/v1/packages/jobs/${body.jobId}`);
        return ['completed', 'failed'].includes(status.body.status) ? status.body : undefined;
      },
      120_000,
      200,
    );
    assert.equal(job.status, 'completed');

    const builderLines = await eventually(() => {
      const lines = logLines(builder).filter((l) => l.jobId === body.jobId);
      return Promise.resolve(lines.some((l) => l.msg === 'package built') ? lines : undefined);
    }, 10_000);
    const access = await eventually(() => {
      const line = logLines(gateway).find(
        (l) =>
          l.req?.method === 'POST' &&
          l.req.path === '/v1/packages' &&
          l.res?.statusCode === 202 &&
          l.trace_id === responseTraceId,
      );
      return Promise.resolve(line);
    }, 10_000).catch(() => {
      throw new Error(
        `no gateway access line for POST /v1/packages with trace ${responseTraceId}:\n` +
          gateway.output().slice(-3_000),
      );
    });
    return { responseTraceId, access, builderLines };
  };

  it('the response, the gateway access line and the build log lines share one trace id', async () => {
    const { responseTraceId, access, builderLines } = await build(['Ruth']);
    assert.match(responseTraceId, REAL_TRACE_ID);
    assert.match(access.span_id ?? '', REAL_SPAN_ID);
    const names = builderLines.map((l) => l.msg);
    assert.ok(names.includes('package build started'), names.join(', '));
    for (const line of builderLines) {
      assert.equal(line.trace_id, responseTraceId, `builder line "${line.msg}" is in the trace`);
      assert.match(line.span_id ?? '', REAL_SPAN_ID);
      assert.notEqual(line.span_id, access.span_id, 'the build is a span of its own');
    }
  });

  it('an incoming traceparent is continued by the gateway and the builder', async () => {
    const traceId = randomBytes(16).toString('hex');
    const { responseTraceId, builderLines } = await build(['Jonah'], {
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    });
    assert.equal(responseTraceId, traceId);
    assert.ok(builderLines.every((l) => l.trace_id === traceId));
  });

  it('a request with no traceparent starts a trace of its own', async () => {
    const a = await fetch(`${gateway.url}/v1/packages/jobs/00000000-0000-4000-8000-000000000000`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const b = await fetch(`${gateway.url}/v1/openapi.json`);
    const ids = [a, b].map((r) => TRACEPARENT.exec(r.headers.get('traceparent') ?? '')?.[1]);
    assert.ok(ids[0] && ids[1], 'both responses carry traceparent');
    assert.notEqual(ids[0], ids[1], 'independent requests are independent traces');
    await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  });
});
