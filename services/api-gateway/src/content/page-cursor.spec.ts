import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor, queryFingerprint, toPage } from './page-cursor';

describe('page cursors', () => {
  const filters = { q: 'john', includeUnpublished: false, limit: 10, cursor: 'x' };

  it('round-trip and are bound to the filters (not to limit or cursor)', () => {
    const f = queryFingerprint(filters);
    assert.equal(f, queryFingerprint({ ...filters, limit: 50, cursor: undefined }));
    assert.notEqual(f, queryFingerprint({ ...filters, q: 'mark' }));
    const text = encodeCursor({ k: ['World English Bible', 'web'], f });
    assert.deepEqual(decodeCursor(text, f), { k: ['World English Bible', 'web'], f });
    assert.equal(decodeCursor(text, queryFingerprint({ q: 'other' })), null);
  });

  it('rejects anything it did not issue', () => {
    const f = queryFingerprint({});
    for (const bad of [
      '',
      '%%%',
      encodeCursor({ f }),
      encodeCursor({ k: [{}] as never, f }),
      encodeCursor({ o: -1, f }),
      encodeCursor({ o: 1e9, f }),
      encodeCursor({ k: ['a'], o: 5, f }),
    ]) {
      assert.equal(decodeCursor(bad, f), null, bad);
    }
  });

  it('builds pages from limit + 1 rows', () => {
    const rows = [{ n: 1 }, { n: 2 }, { n: 3 }];
    const page = toPage(rows, 2, {}, (r) => r.n, { keyOf: (r) => [r.n] }, 3);
    assert.deepEqual(page.items, [1, 2]);
    assert.deepEqual(decodeCursor(page.nextCursor as string, queryFingerprint({}))?.k, [2]);
    assert.equal(toPage(rows.slice(0, 2), 2, {}, (r) => r.n, { offset: 0 }).nextCursor, null);
    const ranked = toPage(rows, 2, {}, (r) => r.n, { offset: 4 });
    assert.equal(decodeCursor(ranked.nextCursor as string, queryFingerprint({}))?.o, 6);
  });
});
