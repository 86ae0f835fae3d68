import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type BookInfo, planParts } from './chunking';

const book = (id: string, testament: 'OT' | 'NT', mb = 1): BookInfo => ({
  id,
  osis: id[0].toUpperCase() + id.slice(1),
  testament,
  estimatedBytes: mb * 1024 * 1024,
});
const canon = [
  book('gen', 'OT'),
  book('exod', 'OT'),
  book('josh', 'OT'),
  book('matt', 'NT'),
  book('john', 'NT', 5),
  book('rom', 'NT'),
];

describe('planParts', () => {
  it('splits by testament', () => {
    const parts = planParts(canon, 'testament');
    assert.deepEqual(
      parts.map((p) => p.books.map((b) => b.id)),
      [
        ['gen', 'exod', 'josh'],
        ['matt', 'john', 'rom'],
      ],
    );
    assert.equal(parts[0].startBook, 'Gen');
    assert.equal(parts[1].endBook, 'Rom');
  });
  it('skips an empty testament', () => {
    assert.equal(planParts(canon.slice(3), 'testament').length, 1);
  });
  it('splits by canonical book group', () => {
    const parts = planParts(canon, 'book_group');
    assert.deepEqual(
      parts.map((p) => p.books.map((b) => b.id)),
      [['gen', 'exod'], ['josh'], ['matt', 'john'], ['rom']],
    );
  });
  it('packs whole books under a size limit, oversize books alone', () => {
    const parts = planParts(canon, 'size', 3);
    assert.deepEqual(
      parts.map((p) => p.books.map((b) => b.id)),
      [['gen', 'exod', 'josh'], ['matt'], ['john'], ['rom']],
    );
  });
  it('keeps every book exactly once, in order', () => {
    for (const strategy of ['testament', 'book_group', 'size'] as const) {
      const ids = planParts(canon, strategy, 2).flatMap((p) => p.books.map((b) => b.id));
      assert.deepEqual(
        ids,
        canon.map((b) => b.id),
      );
    }
  });
  it('returns no parts for no books', () => {
    assert.deepEqual(planParts([], 'size', 1), []);
  });
});
