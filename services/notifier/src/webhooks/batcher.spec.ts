import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from './batcher';

describe('batcher', () => {
  it('groups concurrent calls, answers each with its own result, keeps batches bounded', async () => {
    const sizes: number[] = [];
    const batcher = new Batcher<number, number>(
      async (items) => {
        sizes.push(items.length);
        await new Promise((r) => setTimeout(r, 5));
        return items.map((i) => i * 2);
      },
      10,
      1,
    );
    const results = await Promise.all(Array.from({ length: 35 }, (_, i) => batcher.add(i)));
    assert.deepEqual(
      results,
      Array.from({ length: 35 }, (_, i) => i * 2),
    );
    assert.deepEqual(sizes, [10, 10, 10, 5]);
  });

  it('a failed batch rejects its callers only', async () => {
    let calls = 0;
    const batcher = new Batcher<number, number>(async (items) => {
      calls++;
      if (calls === 1) throw new Error('db down');
      return items;
    });
    await assert.rejects(batcher.add(1), /db down/);
    assert.equal(await batcher.add(2), 2);
  });

  it('lingers for items that trickle in, then sends them in one batch', async () => {
    const sizes: number[] = [];
    const batcher = new Batcher<number, number>(
      (items) => {
        sizes.push(items.length);
        return Promise.resolve(items);
      },
      100,
      2,
      40,
    );
    const results: Promise<number>[] = [];
    for (let i = 0; i < 4; i++) {
      results.push(batcher.add(i));
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.deepEqual(await Promise.all(results), [0, 1, 2, 3]);
    assert.deepEqual(sizes, [4]);
  });
});
