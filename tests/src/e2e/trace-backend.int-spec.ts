// The local stack's trace backend (issue 16): Jaeger v2 with scripts/stack/jaeger.yaml (what
// `npm run stack:up -- --with-tracing` runs) receives the spans of one package build from the
// gateway and the builder, under the trace id the response's traceparent and the builder's log
// lines carry. Jaeger is built once into .stack/bin (`bash scripts/stack/install-tools.sh jaeger`,
// many minutes the first time); without it this suite is skipped and says so.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type RunningService,
  apiClient,
  eventually,
  freePort,
  repoRoot,
  startService,
  tokenFor,
  waitForStatus,
} from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

const JAEGER = join(process.env.STACK_DIR ?? join(repoRoot, '.stack'), 'bin', 'jaeger');

interface JaegerTrace {
  traceID: string;
  spans: { spanID: string; operationName: string; processID: string }[];
  processes: Record<string, { serviceName: string }>;
}

describe(
  'trace backend of the local stack (Jaeger v2)',
  {
    timeout: 5 * 60_000,
    skip: existsSync(JAEGER)
      ? false
      : `${JAEGER} is not built (bash scripts/stack/install-tools.sh jaeger)`,
  },
  () => {
    let jaeger: ChildProcess | undefined;
    let jaegerLog = '';
    let uiUrl = '';
    let gateway: RunningService;
    let builder: RunningService;
    let token: string;

    before(async () => {
      const ports = {
        JAEGER_OTLP_PORT: await freePort(),
        JAEGER_UI_PORT: await freePort(),
        JAEGER_GRPC_PORT: await freePort(),
        JAEGER_HEALTH_PORT: await freePort(),
      };
      jaeger = spawn(JAEGER, ['--config', `file:${join(repoRoot, 'scripts/stack/jaeger.yaml')}`], {
        env: {
          ...process.env,
          ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (c: Buffer) => (jaegerLog = (jaegerLog + c.toString()).slice(-20_000));
      jaeger.stdout?.on('data', keep);
      jaeger.stderr?.on('data', keep);
      await waitForStatus(`http://127.0.0.1:${ports.JAEGER_HEALTH_PORT}/status`, 200, 60_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n--- jaeger ---\n${jaegerLog}`);
        },
      );
      uiUrl = `http://127.0.0.1:${ports.JAEGER_UI_PORT}`;

      const env = await seededTestDatabase();
      const traced = {
        ...env,
        LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.JAEGER_OTLP_PORT}`,
        OTEL_BSP_SCHEDULE_DELAY: '200',
      };
      [gateway, builder] = await Promise.all([
        startService('api-gateway', {
          ...traced,
          RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
          RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
        }),
        startService('package-builder', traced),
      ]);
      token = await tokenFor(env.JWT_SECRET, 'trace-backend-e2e', 'admin');
    });

    after(async () => {
      await Promise.all([gateway, builder].map((s) => s?.stop('SIGKILL')));
      jaeger?.kill('SIGTERM');
    });

    it('shows one trace with the gateway request and the build, as the logs name it', async () => {
      const api = apiClient(gateway.url, token);
      const res = await fetch(`${gateway.url}/v1/packages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          packageType: 'text',
          languageEntityId: 'eng',
          textVersionId: 'web',
          books: ['Ruth'],
        }),
      });
      const { jobId } = (await res.json()) as { jobId: string };
      assert.equal(res.status, 202);
      const traceId = /^00-([0-9a-f]{32})-/.exec(res.headers.get('traceparent') ?? '')?.[1];
      assert.ok(traceId, 'the response carries traceparent');
      await eventually(async () => {
        const job = await api.get<{ status: string }>(`/v1/packages/jobs/${jobId}`);
        return job.body.status === 'completed' ? true : undefined;
      }, 120_000);

      const builtLine = builder
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; jobId?: string; trace_id?: string })
        .find((l) => l.msg === 'package built' && l.jobId === jobId);
      assert.equal(builtLine?.trace_id, traceId, "the builder's log line names the trace");

      const trace = await eventually(async () => {
        const found = await fetch(`${uiUrl}/api/traces/${traceId}`);
        if (found.status !== 200) return undefined;
        const body = (await found.json()) as { data: JaegerTrace[] };
        const t = body.data[0];
        const services = new Set(Object.values(t?.processes ?? {}).map((p) => p.serviceName));
        const ops = new Set(t?.spans.map((s) => s.operationName));
        return services.has('api-gateway') &&
          services.has('package-builder') &&
          ops.has('package.build')
          ? t
          : undefined;
      }, 30_000).catch(() => {
        throw new Error(`trace ${traceId} never complete in Jaeger\n--- jaeger ---\n${jaegerLog}`);
      });
      assert.equal(trace.traceID, traceId);
      const page = await fetch(`${uiUrl}/trace/${traceId}`);
      assert.equal(page.status, 200, 'the UI serves the trace page');
      await page.arrayBuffer();
    });
  },
);
