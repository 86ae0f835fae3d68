import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideRange, etagMatches, ifRangeAllowsPartial } from './http-range';

describe('decideRange', () => {
  const size = 1000;
  it('serves the whole body without a Range header', () => {
    assert.deepEqual(decideRange(undefined, size), { kind: 'full' });
  });
  it('parses closed, open and suffix ranges', () => {
    assert.deepEqual(decideRange('bytes=0-499', size), { kind: 'partial', start: 0, end: 499 });
    assert.deepEqual(decideRange('bytes=500-', size), { kind: 'partial', start: 500, end: 999 });
    assert.deepEqual(decideRange('bytes=-100', size), { kind: 'partial', start: 900, end: 999 });
    assert.deepEqual(decideRange('bytes=-5000', size), { kind: 'partial', start: 0, end: 999 });
  });
  it('clamps an end past the representation', () => {
    assert.deepEqual(decideRange('bytes=990-5000', size), {
      kind: 'partial',
      start: 990,
      end: 999,
    });
  });
  it('answers unsatisfiable for a start at or past the end and for an empty suffix', () => {
    assert.deepEqual(decideRange('bytes=1000-', size), { kind: 'unsatisfiable' });
    assert.deepEqual(decideRange('bytes=2000-3000', size), { kind: 'unsatisfiable' });
    assert.deepEqual(decideRange('bytes=-0', size), { kind: 'unsatisfiable' });
  });
  it('ignores malformed ranges, other units and multiple ranges (full body)', () => {
    for (const h of ['bytes=abc', 'items=0-1', 'bytes=5-2', 'bytes=0-1,5-6', 'bytes=-', 'bytes=']) {
      assert.deepEqual(decideRange(h, size), { kind: 'full' }, h);
    }
  });
});

describe('validators', () => {
  const etag = '"abc"';
  it('If-None-Match uses weak comparison and accepts lists and *', () => {
    assert.equal(etagMatches('"abc"', etag, true), true);
    assert.equal(etagMatches('W/"abc"', etag, true), true);
    assert.equal(etagMatches('"x", "abc"', etag, true), true);
    assert.equal(etagMatches('*', etag, true), true);
    assert.equal(etagMatches('"x"', etag, true), false);
  });
  it('If-Range needs a strong match or a date not older than the representation', () => {
    const modified = new Date('2026-01-01T00:00:00Z');
    assert.equal(ifRangeAllowsPartial(undefined, etag, modified), true);
    assert.equal(ifRangeAllowsPartial('"abc"', etag, modified), true);
    assert.equal(ifRangeAllowsPartial('W/"abc"', etag, modified), false);
    assert.equal(ifRangeAllowsPartial('"stale"', etag, modified), false);
    assert.equal(ifRangeAllowsPartial(modified.toUTCString(), etag, modified), true);
    assert.equal(ifRangeAllowsPartial('Wed, 01 Jan 2025 00:00:00 GMT', etag, modified), false);
  });
});
