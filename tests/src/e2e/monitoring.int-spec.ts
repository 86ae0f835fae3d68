// Dashboards and alerts proven against a real Prometheus (issue 16): the four services run as
// processes on the local stack, Debian's `prometheus` (scripts/stack/ensure-prometheus.sh) scrapes
// them with the labels the chart's ServiceMonitor gives (namespace, service, pod, job; honor_labels
// as `metrics.serviceMonitor.honorLabels`) and evaluates the chart's PrometheusRule groups, a
// workload touches every capability, and then: every target is up, every rule is healthy, and every
// query of the shipped Grafana dashboards returns at least one series.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  type FakeFcm,
  type RunningService,
  type ServiceName,
  type WebhookReceiver,
  apiClient,
  eventually,
  freePort,
  repoRoot,
  startFakeFcm,
  startService,
  startWebhookReceiver,
  tokenFor,
  waitForStatus,
} from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

const CHART = join(repoRoot, 'helm', 'bible-packages');
const RELEASE = 'bible-packages';
const NAMESPACE = 'bible-e2e';
const SCRAPE = '1s';
const COMPONENTS: ServiceName[] = ['api-gateway', 'package-builder', 'sync-service', 'notifier'];

interface Panel {
  title?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  title: string;
  panels: Panel[];
  templating?: { list: { name: string; type: string; query?: unknown }[] };
}
interface PromResponse<T> {
  status: string;
  data: T;
  error?: string;
}
interface Rule {
  name: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}

/** helm, built into .stack/bin by scripts/stack/install-tools.sh (a no-op once it is there). */
function helm(): string {
  execFileSync('bash', [join(repoRoot, 'scripts/stack/install-tools.sh'), 'helm'], {
    stdio: 'ignore',
  });
  return execFileSync('bash', [join(repoRoot, 'scripts/stack/install-tools.sh'), '--print-path'], {
    encoding: 'utf8',
  }).trim();
}

/** The `spec` of the chart's rendered PrometheusRule: a plain Prometheus rules file. */
function chartRules(): string {
  const rendered = execFileSync(
    join(helm(), 'helm'),
    [
      'template',
      RELEASE,
      CHART,
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--show-only',
      'templates/prometheusrule.yaml',
    ],
    { encoding: 'utf8' },
  );
  const lines = rendered.split('\n');
  const spec = lines.indexOf('spec:');
  assert.ok(spec > 0, 'the chart renders a PrometheusRule');
  const body = lines.slice(spec + 1).filter((l) => l === '' || l.startsWith('  '));
  return body.map((l) => l.slice(2)).join('\n');
}

/** Every dashboard query with Grafana's variables replaced as Grafana would for this install. */
function dashboardQueries(): { dashboard: string; panel: string; expr: string }[] {
  const dir = join(CHART, 'dashboards');
  const out: { dashboard: string; panel: string; expr: string }[] = [];
  const walk = (dashboard: string, panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (!t.expr) continue;
        const expr = t.expr
          .replaceAll('$__rate_interval', '1m')
          .replaceAll('$__interval', '15s')
          .replaceAll('$__range', '5m')
          .replaceAll('$namespace', NAMESPACE);
        assert.doesNotMatch(expr, /\$\w/, `${p.title}: every variable is substituted`);
        out.push({ dashboard, panel: `${p.title ?? '?'} (${t.refId ?? '?'})`, expr });
      }
      walk(dashboard, p.panels ?? []);
    }
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard;
    walk(d.title, d.panels);
  }
  return out;
}

const fcmToken = () => `fcm-${randomBytes(24).toString('base64url')}`;

describe('dashboards and alerts against a real Prometheus', { timeout: 6 * 60_000 }, () => {
  let env: Record<string, string>;
  const services = new Map<ServiceName, RunningService>();
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let promLog = '';
  let work = '';
  let receiver: WebhookReceiver;
  let fcm: FakeFcm;
  let db: Client;

  const query = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${promUrl}${path}`);
    const body = (await res.json()) as PromResponse<T>;
    assert.equal(body.status, 'success', `${path}: ${body.error}`);
    return body.data;
  };
  const instant = (expr: string) =>
    query<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);

  before(async () => {
    execFileSync('bash', [join(repoRoot, 'scripts/stack/ensure-prometheus.sh')], {
      stdio: 'ignore',
    });
    const rules = chartRules();
    env = await seededTestDatabase();
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    [receiver, fcm] = await Promise.all([startWebhookReceiver(), startFakeFcm()]);
    const common = {
      ...env,
      RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
      RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
      SYNC_STATS_INTERVAL_MS: '500',
      SYNC_RELAY_INTERVAL_MS: '100',
    };
    const started = await Promise.all(
      COMPONENTS.map((name) =>
        startService(
          name,
          name === 'notifier'
            ? {
                ...common,
                FCM_SERVICE_ACCOUNT_FILE: fcm.serviceAccountFile,
                FCM_ENDPOINT: fcm.url,
                FCM_TOKEN_URI: fcm.tokenUri,
                WEBHOOK_DISPATCH_INTERVAL_MS: '100',
                PUSH_DISPATCH_INTERVAL_MS: '100',
              }
            : common,
        ),
      ),
    );
    for (const s of started) services.set(s.name, s);

    // What the ServiceMonitor gives each target: job from app.kubernetes.io/component, the
    // Service and Pod names, the namespace; the services' own `service` label wins (honorLabels).
    work = mkdtempSync(join(tmpdir(), 'monitoring-e2e-'));
    writeFileSync(join(work, 'rules.yaml'), rules);
    const scrapeConfigs = started.map((s) => ({
      job_name: s.name,
      honor_labels: true,
      metrics_path: '/metrics',
      static_configs: [
        {
          targets: [`127.0.0.1:${s.port}`],
          labels: {
            job: s.name,
            namespace: NAMESPACE,
            service: `${RELEASE}-${s.name}`,
            pod: `${RELEASE}-${s.name}-6d9f7c5b8-x2x4q`,
            container: s.name,
            endpoint: 'http',
          },
        },
      ],
    }));
    // JSON is YAML: no YAML library needed.
    writeFileSync(
      join(work, 'prometheus.yml'),
      JSON.stringify({
        global: { scrape_interval: SCRAPE, evaluation_interval: SCRAPE },
        rule_files: [join(work, 'rules.yaml')],
        scrape_configs: scrapeConfigs,
      }),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(work, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(work, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (c: Buffer) => (promLog = (promLog + c.toString()).slice(-20_000));
    prometheus.stdout?.on('data', keep);
    prometheus.stderr?.on('data', keep);
    await waitForStatus(`${promUrl}/-/ready`, 200, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n--- prometheus ---\n${promLog}`);
    });
  });

  after(async () => {
    prometheus?.kill('SIGKILL');
    await Promise.all([...services.values()].map((s) => s.stop('SIGKILL')));
    await Promise.all([receiver?.close(), fcm?.close(), db?.end()]);
    if (work && existsSync(work)) rmSync(work, { recursive: true, force: true });
  });

  it('drives a workload: builds, a failure, downloads, sync, 4xx, webhook and push', async () => {
    const gateway = services.get('api-gateway') as RunningService;
    const user = 'monitoring-e2e';
    const token = await tokenFor(env.JWT_SECRET, user, 'admin');
    const api = apiClient(gateway.url, token);

    const hook = await api.post('/v1/admin/webhooks', {
      url: `${receiver.url}/hooks`,
      eventTypes: ['package.ready', 'package.failed'],
    });
    assert.equal(hook.status, 201, hook.text);
    const alive = fcmToken();
    const dead = fcmToken();
    fcm.behave(dead, { kind: 'unregistered' });
    for (const [token, deviceId] of [
      [alive, 'pixel'],
      [dead, 'old-phone'],
    ]) {
      const reg = await api.post('/v1/push-tokens', { platform: 'android', token, deviceId });
      assert.equal(reg.status, 201, reg.text);
    }

    const waitForJob = (jobId: string) =>
      eventually(
        async () => {
          const res = await api.get<{ status: string; packageId?: string }>(
            `/v1/packages/jobs/${jobId}`,
          );
          return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
        },
        120_000,
        200,
      );
    const text = { packageType: 'text', languageEntityId: 'eng', textVersionId: 'web' };
    const built = await api.post<{ jobId: string }>('/v1/packages', { ...text, books: ['Ruth'] });
    assert.equal(built.status, 202, built.text);
    const job = await waitForJob(built.body.jobId);
    assert.equal(job.status, 'completed');
    const again = await api.post('/v1/packages', { ...text, books: ['Ruth'] });
    assert.ok(again.status < 300, `the same package again is served: ${again.text}`);
    const download = await fetch(`${gateway.url}/v1/packages/${job.packageId}/download`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(download.status, 200);
    await download.arrayBuffer();

    // A build that fails: an audio file the object store does not have.
    await db.query(`
      INSERT INTO media_files (id, language_entity_id, audio_version_id, remote_path, file_size, duration_seconds, sha256, format,
                               upload_status, publish_status, chapter_id)
      VALUES ('ghost-monitoring', 'eng', 'web-audio-john', 'media/web-audio-john/ghost-monitoring.mp3', 1000, 10, repeat('c', 64), 'mp3',
              'completed', 'published', 'john-21')`);
    try {
      const failing = await api.post<{ jobId: string }>('/v1/packages', {
        packageType: 'audio',
        languageEntityId: 'eng',
        audioVersionId: 'web-audio-john',
        books: ['John'],
      });
      assert.equal(failing.status, 202, failing.text);
      assert.equal((await waitForJob(failing.body.jobId)).status, 'failed');
    } finally {
      await db.query(`DELETE FROM media_files WHERE id = 'ghost-monitoring'`);
    }

    // 4xx: an unknown package, an invalid body.
    assert.equal((await api.get('/v1/packages/nope-package/download')).status, 404);
    assert.equal((await api.post('/v1/packages', { packageType: 'scroll' })).status, 400);

    // Sync: a session, a pull, a push.
    const session = await api.post<{ sessionId: string }>('/v1/sync/sessions', {
      deviceId: 'monitoring',
    });
    assert.equal(session.status, 201, session.text);
    const pull = await api.get('/v1/sync/changes?textVersionId=web&limit=50');
    assert.equal(pull.status, 200, pull.text);
    const { rows } = await db.query<{ version: number }>(
      `SELECT version FROM verse_texts WHERE id = 'web-ruth-1-1'`,
    );
    const push = await api.post<{ results: { result: string }[] }>('/v1/sync/push', {
      sessionId: session.body.sessionId,
      clientId: 'monitoring',
      mutations: [
        {
          mutationId: randomBytes(8).toString('hex'),
          table: 'verse_texts',
          recordId: 'web-ruth-1-1',
          operation: 'UPDATE',
          data: { verse_text: 'In the days when the judges judged (monitoring)' },
          baseVersion: rows[0].version,
          clientUpdatedAt: new Date().toISOString(),
        },
      ],
    });
    assert.equal(push.status, 200, push.text);

    // The notifier delivered the webhooks and the push (and pruned the dead token).
    await eventually(
      () =>
        Promise.resolve(
          receiver.on('/hooks').length >= 2 &&
            fcm.requests.some((r) => r.token === alive && r.status === 200) &&
            fcm.requests.some((r) => r.token === dead)
            ? true
            : undefined,
        ),
      60_000,
      200,
    );
  });

  it('every target is up with the ServiceMonitor labels', async () => {
    const targets = await eventually(async () => {
      const data = await query<{
        activeTargets: { labels: Record<string, string>; health: string; lastError: string }[];
      }>('/api/v1/targets?state=active');
      return data.activeTargets.length === COMPONENTS.length &&
        data.activeTargets.every((t) => t.health === 'up')
        ? data.activeTargets
        : undefined;
    }, 20_000).catch(async () => {
      throw new Error(`targets not all up: ${JSON.stringify(await query('/api/v1/targets'))}`);
    });
    assert.deepEqual(targets.map((t) => t.labels.job).sort(), [...COMPONENTS].sort());
    for (const t of targets) assert.equal(t.labels.namespace, NAMESPACE);
    // The dashboards' namespace variable finds the installation.
    const namespaces = await query<string[]>(
      `/api/v1/label/namespace/values?match[]=${encodeURIComponent('up{job=~"api-gateway|package-builder|sync-service|notifier"}')}`,
    );
    assert.deepEqual(namespaces, [NAMESPACE]);
  });

  it("every rule of the chart's PrometheusRule is evaluated and healthy", async () => {
    const rules = await eventually(async () => {
      const data = await query<{ groups: { name: string; rules: Rule[] }[] }>('/api/v1/rules');
      const all = data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => !r.lastEvaluation.startsWith('0001'))
        ? all
        : undefined;
    }, 20_000);
    const unhealthy = rules.filter((r) => r.health !== 'ok');
    assert.deepEqual(
      unhealthy.map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`),
      [],
      'every rule healthy',
    );
    assert.ok(rules.length >= 10, `the chart's rules are loaded (${rules.length})`);
  });

  it('every dashboard query returns data', async () => {
    const queries = dashboardQueries();
    assert.ok(queries.length > 20, `dashboard queries found (${queries.length})`);
    let empty: string[];
    // The last scrape may still be on its way: a few seconds for every series to arrive.
    const deadline = Date.now() + 20_000;
    do {
      empty = [];
      for (const q of queries) {
        const { result } = await instant(q.expr);
        if (result.length === 0) empty.push(`${q.dashboard} / ${q.panel}: ${q.expr}`);
      }
      if (empty.length === 0) break;
      await new Promise((r) => setTimeout(r, 1_000));
    } while (Date.now() < deadline);
    assert.deepEqual(empty, [], 'panels without data');
  });
});
