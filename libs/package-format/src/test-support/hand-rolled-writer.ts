// A second, deliberately minimal `.bible` writer written straight from the spec with plain
// Buffer concatenation. It imports nothing from the library, so packages it produces show the
// reader accepts any correct implementation, not just our own writer's quirks.
import { createHash, sign, type KeyObject } from 'node:crypto';
import * as zlib from 'node:zlib';

export interface HandRolledInput {
  /** Any JSON text; the caller controls formatting and key order. */
  manifestJson: string;
  database: Buffer;
  audio: Buffer;
  packageType: number;
  flags?: number;
  /** Spec says readers skip to headerLength; values > 128 exercise that. */
  headerLength?: number;
  signWith?: { keyId: string; privateKey: KeyObject };
}

const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

export function handRolledPackage(input: HandRolledInput): Buffer {
  const manifest = Buffer.from(input.manifestJson, 'utf8');
  const headerLength = input.headerLength ?? 128;
  const flags = (input.flags ?? 0) | (input.signWith ? 1 : 0);
  const header = Buffer.alloc(headerLength);
  header.write('BIBLE001', 0, 'ascii');
  header.writeUInt32LE(1, 8);
  header.writeUInt32LE(input.packageType, 12);
  header.writeUInt32LE(manifest.length, 16);
  header.writeBigUInt64LE(BigInt(input.database.length), 20);
  header.writeBigUInt64LE(BigInt(input.audio.length), 28);
  sha256(manifest, input.database, input.audio).copy(header, 36);
  header.writeUInt32LE(headerLength, 68);
  header.writeUInt32LE(flags, 72);
  header.writeUInt32LE(zlib.crc32(header.subarray(0, 124)) >>> 0, 124);
  // Bytes 128..headerLength belong to a hypothetical later header version: fill them with junk.
  header.fill(0xa5, 128);
  const parts = [header, manifest, input.database, input.audio];
  if (input.signWith) {
    const keyId = Buffer.from(input.signWith.keyId, 'utf8');
    const prefix = Buffer.alloc(16);
    prefix.write('BIBLESIG', 0, 'ascii');
    prefix.writeUInt32LE(1, 8);
    prefix.writeUInt32LE(keyId.length, 12);
    parts.push(prefix, keyId, sign(null, header.subarray(0, 128), input.signWith.privateKey));
  }
  return Buffer.concat(parts);
}

export function hexSha256(...parts: Buffer[]): string {
  return sha256(...parts).toString('hex');
}
