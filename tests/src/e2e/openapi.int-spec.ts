// The OpenAPI document the gateway serves covers the public contract (docs/http-api.md) for
// what is implemented, and is a well-formed OpenAPI 3.1 document generated from the zod schemas.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshTestDataSource } from '@bible/common/database/testing';
import { type RunningService, startService, testEnv } from '@bible/testing';

/** Contract routes (method, path) of docs/http-api.md implemented so far. */
const contract: [string, string][] = [
  ['post', '/v1/packages'],
  ['get', '/v1/packages'],
  ['get', '/v1/packages/jobs/{jobId}'],
  ['get', '/v1/packages/jobs/{jobId}/events'],
  ['get', '/v1/packages/{packageId}'],
  ['get', '/v1/packages/{packageId}/download'],
  ['head', '/v1/packages/{packageId}/download'],
  ['get', '/v1/packages/download'],
  ['get', '/v1/packages/keys'],
  ['post', '/v1/sync/sessions'],
  ['get', '/v1/sync/changes'],
  ['post', '/v1/sync/push'],
  ['post', '/v1/sync/sessions/{id}/complete'],
  ['get', '/v1/sync/conflicts'],
  ['post', '/v1/sync/conflicts/{id}/resolve'],
  ['get', '/v1/admin/sync/analytics'],
  ['get', '/v1/admin/sync/health'],
  ['post', '/v1/admin/webhooks'],
  ['get', '/v1/admin/webhooks'],
  ['delete', '/v1/admin/webhooks/{id}'],
  ['post', '/v1/push-tokens'],
  ['get', '/v1/push-tokens'],
  ['delete', '/v1/push-tokens/{id}'],
  ['get', '/v1/push/vapid-public-key'],
  ['get', '/v1/notifications'],
  ['get', '/v1/notification-preferences'],
  ['put', '/v1/notification-preferences'],
  ['get', '/health/live'],
  ['get', '/health/ready'],
  ['get', '/metrics'],
];

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>
  >;
}

describe('OpenAPI document', () => {
  let gateway: RunningService;
  let doc: OpenApi;

  before(async () => {
    const db = await freshTestDataSource(testEnv().DATABASE_URL);
    await db.destroy();
    gateway = await startService('api-gateway', testEnv());
    const res = await fetch(`${gateway.url}/v1/openapi.json`);
    assert.equal(res.status, 200, 'served without a token');
    doc = (await res.json()) as OpenApi;
  });

  after(async () => {
    await gateway?.stop('SIGKILL');
  });

  it('is OpenAPI 3.1', () => {
    assert.equal(doc.openapi, '3.1.0');
  });

  for (const [method, path] of contract) {
    it(`documents ${method.toUpperCase()} ${path}`, () => {
      const operation = doc.paths[path]?.[method];
      assert.ok(operation, `${method} ${path} is missing`);
      assert.ok(Object.keys(operation.responses).length > 0);
    });
  }

  it('request bodies carry the validation schemas (e.g. packageType enum)', () => {
    const body = JSON.stringify(doc.paths['/v1/packages'].post.requestBody);
    assert.match(body, /"audio","text","combined"/);
  });

  it('the package detail response documents the manifest fields', () => {
    const detail = JSON.stringify(doc.paths['/v1/packages/{packageId}'].get.responses['200']);
    for (const field of ['contentRevision', 'syncCursor', 'audioFileIndex', 'databaseHash']) {
      assert.match(detail, new RegExp(`"${field}"`));
    }
  });
});
