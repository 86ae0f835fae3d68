import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mutationSchema } from '../sync/sync.schemas';
import { nulStringPaths, pgTimestamp } from './pg-types';

describe('what Postgres can store', () => {
  it('timestamps: zone offsets up to ±15:59, years 0001-9999, real days, microseconds', () => {
    const ts = pgTimestamp();
    for (const ok of [
      '2026-12-01T23:25:00Z',
      '2026-12-01T23:25:00.123456+05:30',
      '0001-01-01T00:00:00-15:59',
      '2024-02-29T12:00:00Z',
    ])
      assert.equal(ts.safeParse(ok).success, true, ok);
    for (const bad of [
      '0567-07-30T05:22:07-23:40', // the fuzzer's find: offset beyond Postgres' range
      '0000-01-01T00:00:00Z', // no year 0
      '2023-02-29T00:00:00Z', // not a day of its month
      '2026-12-01T23:25:00', // no zone
      '2026-12-01T23:25:00.1234567Z', // below microseconds
    ])
      assert.equal(ts.safeParse(bad).success, false, bad);
  });

  it('baseVersion stays within a Postgres integer', () => {
    const base = {
      mutationId: 'm1',
      table: 'verse_texts',
      recordId: 'r1',
      operation: 'DELETE',
      clientUpdatedAt: '2026-12-01T00:00:00Z',
    };
    assert.equal(mutationSchema.safeParse({ ...base, baseVersion: 2_147_483_647 }).success, true);
    assert.equal(
      mutationSchema.safeParse({ ...base, baseVersion: 9_007_199_254_740_990 }).success,
      false,
    );
  });

  it('finds NUL characters in nested strings and keys', () => {
    assert.deepEqual(nulStringPaths({ a: ['ok', 'b\u0000d'], c: { 'k\u0000': 1 } }), [
      ['a', '1'],
      ['c', 'k\u0000'],
    ]);
    assert.deepEqual(nulStringPaths({ a: 'fine', n: 1 }), []);
  });
});
