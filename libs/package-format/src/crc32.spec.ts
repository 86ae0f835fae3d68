import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32, crc32Portable } from './crc32';

void describe('crc32', () => {
  void it('matches the IEEE check value', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
  });

  void it('portable table implementation equals zlib on random data, incl. chaining', () => {
    for (let i = 0; i < 50; i++) {
      const a = randomBytes(i * 37);
      const b = randomBytes(i * 11);
      assert.equal(crc32Portable(a), crc32(a));
      assert.equal(crc32Portable(b, crc32Portable(a)), crc32(Buffer.concat([a, b])));
    }
  });
});
