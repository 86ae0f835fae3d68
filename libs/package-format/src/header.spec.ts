import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PackageFormatError } from './errors';
import {
  HEADER_LENGTH,
  HeaderOffset,
  PackageFlags,
  PackageType,
  decodeHeader,
  encodeHeader,
  resealHeaderCrc,
} from './header';

const base = () =>
  encodeHeader({
    packageType: PackageType.Combined,
    manifestLength: 1000,
    databaseLength: 2 ** 40,
    audioLength: 2 ** 33 + 5,
    contentSha256: 'ab'.repeat(32),
    flags: PackageFlags.Signed | PackageFlags.Delta,
  });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PackageFormatError);
    return err.code;
  }
  return 'ok';
}

void describe('header', () => {
  void it('round-trips every field with the spec offsets', () => {
    const buf = base();
    assert.equal(buf.length, HEADER_LENGTH);
    assert.equal(buf.toString('ascii', 0, 8), 'BIBLE001');
    assert.equal(buf.readUInt32LE(HeaderOffset.headerLength), 128);
    assert.ok(
      buf.subarray(76, 124).every((b) => b === 0),
      'reserved bytes are zero',
    );
    const h = decodeHeader(buf);
    assert.deepEqual(
      { ...h, headerCrc32: 0 },
      {
        formatVersion: 1,
        packageType: 3,
        manifestLength: 1000,
        databaseLength: 2 ** 40,
        audioLength: 2 ** 33 + 5,
        contentSha256: 'ab'.repeat(32),
        headerLength: 128,
        flags: 3,
        signed: true,
        delta: true,
        headerCrc32: 0,
      },
    );
  });

  void it('checks magic, length, version, CRC and fields in that order', () => {
    const b = base();
    assert.equal(
      code(() => decodeHeader(Buffer.from('BIBLE00'))),
      'TRUNCATED',
    );
    assert.equal(
      code(() => decodeHeader(Buffer.alloc(0))),
      'TRUNCATED',
    );
    assert.equal(
      code(() => decodeHeader(Buffer.from('PK\x03\x04'))),
      'BAD_MAGIC',
    );
    assert.equal(
      code(() => decodeHeader(b.subarray(0, 127))),
      'TRUNCATED',
    );
    const v2 = Buffer.from(b);
    v2.writeUInt32LE(2, 8);
    assert.equal(
      code(() => decodeHeader(v2)),
      'UNSUPPORTED_VERSION',
    );
    const flipped = Buffer.from(b);
    flipped[HeaderOffset.manifestLength] ^= 1;
    assert.equal(
      code(() => decodeHeader(flipped)),
      'HEADER_CRC_MISMATCH',
    );
    const patch = (fn: (h: Buffer) => void) => {
      const h = Buffer.from(b);
      fn(h);
      return code(() => decodeHeader(resealHeaderCrc(h)));
    };
    assert.equal(
      patch((h) => h.writeUInt32LE(0, 12)),
      'HEADER_INVALID',
    );
    assert.equal(
      patch((h) => h.writeUInt32LE(7, 12)),
      'HEADER_INVALID',
    );
    assert.equal(
      patch((h) => h.writeUInt32LE(64, 68)),
      'HEADER_INVALID',
    );
    assert.equal(
      patch((h) => h.writeUInt32LE(4, 72)),
      'HEADER_INVALID',
    );
    assert.equal(
      patch((h) => h.writeBigUInt64LE(2n ** 63n, 20)),
      'HEADER_INVALID',
    );
    assert.equal(
      patch((h) => h.writeUInt32LE(0xffffffff, 16)),
      'HEADER_INVALID',
    );
    // A text package cannot announce audio.
    assert.equal(
      patch((h) => h.writeUInt32LE(PackageType.Text, 12)),
      'HEADER_INVALID',
    );
    // Reserved bytes and a grown headerLength are accepted (forward compatibility).
    assert.equal(
      patch((h) => h.writeUInt32LE(0xffffffff, 80)),
      'ok',
    );
    assert.equal(
      patch((h) => h.writeUInt32LE(256, 68)),
      'ok',
    );
  });
});
