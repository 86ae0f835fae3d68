// The interactive API reference at /v1/docs (issue 14, item 9), loaded in headless Chromium
// (Debian's `chromium`, installed by scripts/stack/ensure-chromium.sh): every path of the OpenAPI
// document renders, and the page loads nothing from another origin.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { type RunningService, startService, testEnv } from '@bible/testing';

describe('API reference at /v1/docs', { timeout: 3 * 60_000 }, () => {
  let gateway: RunningService;

  before(async () => {
    gateway = await startService('api-gateway', testEnv());
  });

  after(async () => {
    await gateway?.stop('SIGKILL');
  });

  it('serves the page and its assets from the gateway, with a same-origin policy', async () => {
    const page = await fetch(`${gateway.url}/v1/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await page.text();
    for (const src of html.matchAll(/src="([^"]+)"/g)) {
      assert.match(src[1], /^\/v1\/docs\//, 'every script comes from the gateway');
      assert.equal((await fetch(`${gateway.url}${src[1]}`)).status, 200, src[1]);
    }
    assert.equal((await fetch(`${gateway.url}/v1/docs/assets/..%2Fpackage.json`)).status, 404);
  });

  it('renders every operation of the document in headless Chromium', async () => {
    const doc = (await (await fetch(`${gateway.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
    };
    const chromium = spawnSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--virtual-time-budget=20000',
        '--dump-dom',
        `${gateway.url}/v1/docs`,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    assert.ok(
      !chromium.error,
      `chromium did not run (scripts/stack/ensure-chromium.sh installs it): ${chromium.error?.message}`,
    );
    const dom = chromium.stdout
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'");
    const paths = Object.keys(doc.paths);
    const missing = paths.filter((p) => !dom.includes(p));
    assert.deepEqual(missing, [], 'every path renders');
    const tags = new Set(
      Object.values(doc.paths).flatMap((item) =>
        Object.values(item).flatMap((op) => op.tags ?? []),
      ),
    );
    const missingTags = [...tags].filter((t) => !dom.toLowerCase().includes(t.toLowerCase()));
    assert.deepEqual(missingTags, [], 'every tag renders');
    assert.doesNotMatch(
      chromium.stderr,
      /Refused to (load|connect)/,
      'nothing from another origin',
    );
  });
});
