// Helpers that take a valid package apart and put it back together with one deliberate fault,
// recomputing every *earlier* check (CRC, content hash, manifest hashes) so the package fails
// exactly at the intended check. Independent of the library's writer.
import { createHash, sign, type KeyObject } from 'node:crypto';
import * as zlib from 'node:zlib';

export interface PackageParts {
  header: Buffer;
  manifest: Buffer;
  database: Buffer;
  audio: Buffer;
  trailer: Buffer;
}

export function splitPackage(pkg: Buffer): PackageParts {
  const headerLength = pkg.readUInt32LE(68);
  const m = pkg.readUInt32LE(16);
  const d = Number(pkg.readBigUInt64LE(20));
  const a = Number(pkg.readBigUInt64LE(28));
  const manifestAt = headerLength;
  const dbAt = manifestAt + m;
  const audioAt = dbAt + d;
  const end = audioAt + a;
  return {
    header: Buffer.from(pkg.subarray(0, headerLength)),
    manifest: Buffer.from(pkg.subarray(manifestAt, dbAt)),
    database: Buffer.from(pkg.subarray(dbAt, audioAt)),
    audio: Buffer.from(pkg.subarray(audioAt, end)),
    trailer: Buffer.from(pkg.subarray(end)),
  };
}

export const sha256hex = (...parts: Buffer[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

export function fixCrc(header: Buffer): void {
  header.writeUInt32LE(zlib.crc32(header.subarray(0, 124)) >>> 0, 124);
}

export interface AssembleOptions {
  /** Recompute lengths, contentSha256 and CRC from the parts (default true). */
  reseal?: boolean;
  /** Replace the trailer with a fresh signature. */
  resign?: { keyId: string; privateKey: KeyObject };
}

export function assemble(parts: PackageParts, options: AssembleOptions = {}): Buffer {
  const header = Buffer.from(parts.header);
  if (options.reseal ?? true) {
    header.writeUInt32LE(parts.manifest.length, 16);
    header.writeBigUInt64LE(BigInt(parts.database.length), 20);
    header.writeBigUInt64LE(BigInt(parts.audio.length), 28);
    Buffer.from(sha256hex(parts.manifest, parts.database, parts.audio), 'hex').copy(header, 36);
    fixCrc(header);
  }
  let trailer = parts.trailer;
  if (options.resign) {
    const keyId = Buffer.from(options.resign.keyId, 'utf8');
    const prefix = Buffer.alloc(16);
    prefix.write('BIBLESIG', 0, 'ascii');
    prefix.writeUInt32LE(1, 8);
    prefix.writeUInt32LE(keyId.length, 12);
    trailer = Buffer.concat([
      prefix,
      keyId,
      sign(null, header.subarray(0, 128), options.resign.privateKey),
    ]);
  }
  return Buffer.concat([header, parts.manifest, parts.database, parts.audio, trailer]);
}

type Json = Record<string, unknown>;

/** Edits the manifest JSON (or replaces its text) and reseals everything before it. */
export function withManifest(pkg: Buffer, edit: (m: Json) => Json | string | void): Buffer {
  const parts = splitPackage(pkg);
  const json = JSON.parse(parts.manifest.toString('utf8')) as Json;
  const result = edit(json);
  const text = typeof result === 'string' ? result : JSON.stringify(result ?? json);
  return assemble({ ...parts, manifest: Buffer.from(text, 'utf8') });
}

/** Replaces the database bytes and fixes databaseHash/totalContentHash to match them. */
export function withDatabase(pkg: Buffer, database: Buffer): Buffer {
  const parts = splitPackage(pkg);
  const json = JSON.parse(parts.manifest.toString('utf8')) as Json;
  json.databaseHash = sha256hex(database);
  json.totalContentHash = sha256hex(database, parts.audio);
  return assemble({ ...parts, database, manifest: Buffer.from(JSON.stringify(json), 'utf8') });
}

/** Patches header bytes; `crc` recomputes the header CRC afterwards. */
export function withHeader(pkg: Buffer, patch: (h: Buffer) => void, crc = true): Buffer {
  const out = Buffer.from(pkg);
  const header = out.subarray(0, 128);
  patch(header);
  if (crc) fixCrc(header);
  return out;
}
