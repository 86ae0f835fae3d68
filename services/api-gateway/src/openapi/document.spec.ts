import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayOpenApiDocument } from './document';

interface Media {
  schema?: unknown;
  example?: unknown;
  examples?: Record<string, unknown>;
}
interface Operation {
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}

describe('OpenAPI document', () => {
  const doc = gatewayOpenApiDocument() as { paths: Record<string, Record<string, Operation>> };
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ label: `${method.toUpperCase()} ${path}`, op })),
  );
  const hasExample = (m: Media) => m.example !== undefined || Object.keys(m.examples ?? {}).length;

  it('shows an example for every request body', () => {
    const missing = operations.flatMap(({ label, op }) =>
      Object.entries(op.requestBody?.content ?? {})
        .filter(([, media]) => !hasExample(media))
        .map(([type]) => `${label} ${type}`),
    );
    assert.ok(
      operations.some(({ op }) => op.requestBody),
      'the document has request bodies',
    );
    assert.deepEqual(missing, []);
  });

  it('shows an example for every response body', () => {
    const missing = operations.flatMap(({ label, op }) =>
      Object.entries(op.responses).flatMap(([status, r]) =>
        Object.entries(r.content ?? {})
          .filter(([type, media]) => type.includes('json') && !hasExample(media))
          .map(([type]) => `${label} ${status} ${type}`),
      ),
    );
    assert.deepEqual(missing, []);
  });
});
