import { crc32 } from './crc32';
import { PackageFormatError } from './errors';

export const MAGIC = 'BIBLE001';
export const FORMAT_VERSION = 1;
/** Size of the v1 header; also the number of bytes the signature covers. */
export const HEADER_LENGTH = 128;
/** Upper bound a reader accepts for `headerLength`, so a corrupt value cannot make it skip gigabytes. */
export const MAX_HEADER_LENGTH = 64 * 1024;
/**
 * Readers load the manifest into memory, so they refuse absurd sizes instead of allocating
 * them (a full audio Bible's manifest is well under 1 MiB).
 */
export const MAX_MANIFEST_LENGTH = 64 * 1024 * 1024;

/** Byte offsets of the header fields (spec table "Header"). */
export const HeaderOffset = {
  magic: 0,
  formatVersion: 8,
  packageType: 12,
  manifestLength: 16,
  databaseLength: 20,
  audioLength: 28,
  contentSha256: 36,
  headerLength: 68,
  flags: 72,
  reserved: 76,
  headerCrc32: 124,
} as const;

export enum PackageType {
  Audio = 1,
  Text = 2,
  Combined = 3,
  AudioPart = 4,
  TextPart = 5,
  CombinedPart = 6,
}

export const PackageFlags = {
  /** Bit 0: a signature trailer follows the audio section. */
  Signed: 1,
  /** Bit 1: delta package (manifest carries `delta`). */
  Delta: 2,
} as const;

const KNOWN_FLAGS = PackageFlags.Signed | PackageFlags.Delta;

export function isPackageType(value: number): value is PackageType {
  return Number.isInteger(value) && value >= 1 && value <= 6;
}

export function packageTypeHasAudio(type: PackageType): boolean {
  return type !== PackageType.Text && type !== PackageType.TextPart;
}

export function packageTypeHasText(type: PackageType): boolean {
  return type !== PackageType.Audio && type !== PackageType.AudioPart;
}

export function isPartPackageType(type: PackageType): boolean {
  return type >= PackageType.AudioPart;
}

export interface PackageHeader {
  formatVersion: number;
  packageType: PackageType;
  manifestLength: number;
  databaseLength: number;
  audioLength: number;
  /** Lower-case hex; doubles as the download's strong ETag. */
  contentSha256: string;
  headerLength: number;
  flags: number;
  signed: boolean;
  delta: boolean;
  headerCrc32: number;
}

export interface HeaderFields {
  packageType: PackageType;
  manifestLength: number;
  databaseLength: number;
  audioLength: number;
  contentSha256: string | Uint8Array;
  flags: number;
  /** Defaults to 128. Only tests write larger values (to prove readers honour it). */
  headerLength?: number;
}

/** Serialises the 128-byte v1 header and fills in its CRC-32. */
export function encodeHeader(fields: HeaderFields): Buffer {
  const hash =
    typeof fields.contentSha256 === 'string'
      ? Buffer.from(fields.contentSha256, 'hex')
      : Buffer.from(fields.contentSha256);
  if (hash.length !== 32)
    throw new PackageFormatError('INVALID_INPUT', 'contentSha256 must be 32 bytes');
  for (const [name, value] of [
    ['manifestLength', fields.manifestLength],
    ['databaseLength', fields.databaseLength],
    ['audioLength', fields.audioLength],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new PackageFormatError('INVALID_INPUT', `${name} must be a non-negative safe integer`);
    }
  }
  if (fields.manifestLength > MAX_MANIFEST_LENGTH) {
    throw new PackageFormatError('INVALID_INPUT', 'manifest larger than readers accept (64 MiB)');
  }
  const buf = Buffer.alloc(HEADER_LENGTH);
  buf.write(MAGIC, HeaderOffset.magic, 'ascii');
  buf.writeUInt32LE(FORMAT_VERSION, HeaderOffset.formatVersion);
  buf.writeUInt32LE(fields.packageType, HeaderOffset.packageType);
  buf.writeUInt32LE(fields.manifestLength, HeaderOffset.manifestLength);
  buf.writeBigUInt64LE(BigInt(fields.databaseLength), HeaderOffset.databaseLength);
  buf.writeBigUInt64LE(BigInt(fields.audioLength), HeaderOffset.audioLength);
  hash.copy(buf, HeaderOffset.contentSha256);
  buf.writeUInt32LE(fields.headerLength ?? HEADER_LENGTH, HeaderOffset.headerLength);
  buf.writeUInt32LE(fields.flags >>> 0, HeaderOffset.flags);
  buf.writeUInt32LE(crc32(buf.subarray(0, HeaderOffset.headerCrc32)), HeaderOffset.headerCrc32);
  return buf;
}

/** Recomputes the CRC of an encoded header in place (used after patching a field). */
export function resealHeaderCrc(header: Buffer): Buffer {
  header.writeUInt32LE(
    crc32(header.subarray(0, HeaderOffset.headerCrc32)),
    HeaderOffset.headerCrc32,
  );
  return header;
}

function readLength(buf: Buffer, offset: number, name: string): number {
  const value = buf.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new PackageFormatError('HEADER_INVALID', `${name} ${value} is not a plausible length`);
  }
  return Number(value);
}

/**
 * Parses and validates the header in the spec's order: magic, formatVersion, CRC, then the
 * remaining fields. `bytes` is the start of the file (fewer than 128 bytes means the file is
 * shorter than a header). Reserved bytes are ignored so a later revision can use them.
 */
export function decodeHeader(bytes: Uint8Array): PackageHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLen = Math.min(buf.length, MAGIC.length);
  if (buf.toString('latin1', 0, magicLen) !== MAGIC.slice(0, magicLen)) {
    throw new PackageFormatError('BAD_MAGIC', 'file does not start with "BIBLE001"');
  }
  if (buf.length < HEADER_LENGTH) {
    throw new PackageFormatError(
      'TRUNCATED',
      `file is ${buf.length} bytes, shorter than the header`,
    );
  }
  const formatVersion = buf.readUInt32LE(HeaderOffset.formatVersion);
  if (formatVersion !== FORMAT_VERSION) {
    throw new PackageFormatError(
      'UNSUPPORTED_VERSION',
      `formatVersion ${formatVersion} (expected 1)`,
    );
  }
  const storedCrc = buf.readUInt32LE(HeaderOffset.headerCrc32);
  const actualCrc = crc32(buf.subarray(0, HeaderOffset.headerCrc32));
  if (storedCrc !== actualCrc) {
    throw new PackageFormatError(
      'HEADER_CRC_MISMATCH',
      `headerCrc32 is ${hex32(storedCrc)}, bytes 0..123 give ${hex32(actualCrc)}`,
    );
  }
  const packageType = buf.readUInt32LE(HeaderOffset.packageType);
  if (!isPackageType(packageType)) {
    throw new PackageFormatError('HEADER_INVALID', `packageType ${packageType} is reserved`);
  }
  const headerLength = buf.readUInt32LE(HeaderOffset.headerLength);
  if (headerLength < HEADER_LENGTH || headerLength > MAX_HEADER_LENGTH) {
    throw new PackageFormatError('HEADER_INVALID', `headerLength ${headerLength} out of range`);
  }
  const flags = buf.readUInt32LE(HeaderOffset.flags);
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new PackageFormatError('HEADER_INVALID', `unknown flag bits 0x${flags.toString(16)}`);
  }
  const manifestLength = buf.readUInt32LE(HeaderOffset.manifestLength);
  if (manifestLength > MAX_MANIFEST_LENGTH) {
    throw new PackageFormatError(
      'HEADER_INVALID',
      `manifestLength ${manifestLength} exceeds 64 MiB`,
    );
  }
  const audioLength = readLength(buf, HeaderOffset.audioLength, 'audioLength');
  if (!packageTypeHasAudio(packageType) && audioLength !== 0) {
    throw new PackageFormatError('HEADER_INVALID', `text package with audioLength ${audioLength}`);
  }
  return {
    formatVersion,
    packageType,
    manifestLength,
    databaseLength: readLength(buf, HeaderOffset.databaseLength, 'databaseLength'),
    audioLength,
    contentSha256: buf.toString('hex', HeaderOffset.contentSha256, HeaderOffset.contentSha256 + 32),
    headerLength,
    flags,
    signed: (flags & PackageFlags.Signed) !== 0,
    delta: (flags & PackageFlags.Delta) !== 0,
    headerCrc32: storedCrc,
  };
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Absolute offsets of each section, derived from a decoded header. */
export interface PackageLayout {
  headerLength: number;
  manifestOffset: number;
  manifestLength: number;
  databaseOffset: number;
  databaseLength: number;
  audioOffset: number;
  audioLength: number;
  /** End of the audio section = start of the trailer (if any). */
  bodyEnd: number;
}

export function computeLayout(header: PackageHeader): PackageLayout {
  const manifestOffset = header.headerLength;
  const databaseOffset = manifestOffset + header.manifestLength;
  const audioOffset = databaseOffset + header.databaseLength;
  return {
    headerLength: header.headerLength,
    manifestOffset,
    manifestLength: header.manifestLength,
    databaseOffset,
    databaseLength: header.databaseLength,
    audioOffset,
    audioLength: header.audioLength,
    bodyEnd: audioOffset + header.audioLength,
  };
}
