import { PackageFormatError } from './errors';

export const TRAILER_MAGIC = 'BIBLESIG';
/** Fixed part of the trailer: magic, algorithm, keyId length. */
export const TRAILER_PREFIX_LENGTH = 16;
export const SIGNATURE_LENGTH = 64;
/** Readers refuse longer key ids so a corrupt length cannot trigger a huge read. */
export const MAX_KEY_ID_BYTES = 1024;

export const SignatureAlgorithm = { Ed25519: 1 } as const;

export interface SignatureTrailer {
  algorithm: number;
  keyId: string;
  signature: Buffer;
}

export function trailerLength(keyId: string): number {
  return TRAILER_PREFIX_LENGTH + Buffer.byteLength(keyId, 'utf8') + SIGNATURE_LENGTH;
}

export function assertValidKeyId(keyId: string): void {
  const n = Buffer.byteLength(keyId, 'utf8');
  if (n === 0 || n > 255 || /[\p{Cc}]/u.test(keyId)) {
    throw new PackageFormatError(
      'INVALID_INPUT',
      'keyId must be 1..255 UTF-8 bytes without control characters',
    );
  }
}

export function encodeTrailer(keyId: string, signature: Uint8Array): Buffer {
  assertValidKeyId(keyId);
  if (signature.length !== SIGNATURE_LENGTH) {
    throw new PackageFormatError('INVALID_INPUT', 'Ed25519 signatures are 64 bytes');
  }
  const id = Buffer.from(keyId, 'utf8');
  const buf = Buffer.alloc(TRAILER_PREFIX_LENGTH + id.length + SIGNATURE_LENGTH);
  buf.write(TRAILER_MAGIC, 0, 'ascii');
  buf.writeUInt32LE(SignatureAlgorithm.Ed25519, 8);
  buf.writeUInt32LE(id.length, 12);
  id.copy(buf, TRAILER_PREFIX_LENGTH);
  Buffer.from(signature).copy(buf, TRAILER_PREFIX_LENGTH + id.length);
  return buf;
}

/** Validates the 16-byte fixed prefix and returns the key id length it announces. */
export function decodeTrailerPrefix(prefix: Buffer): { algorithm: number; keyIdLength: number } {
  if (prefix.toString('latin1', 0, 8) !== TRAILER_MAGIC) {
    throw new PackageFormatError(
      'TRAILER_INVALID',
      'signature trailer does not start with "BIBLESIG"',
    );
  }
  const algorithm = prefix.readUInt32LE(8);
  if (algorithm !== SignatureAlgorithm.Ed25519) {
    throw new PackageFormatError('TRAILER_INVALID', `unsupported signature algorithm ${algorithm}`);
  }
  const keyIdLength = prefix.readUInt32LE(12);
  if (keyIdLength === 0 || keyIdLength > MAX_KEY_ID_BYTES) {
    throw new PackageFormatError('TRAILER_INVALID', `keyId length ${keyIdLength} out of range`);
  }
  return { algorithm, keyIdLength };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a complete trailer (prefix + keyId + signature). */
export function decodeTrailer(buf: Buffer): SignatureTrailer {
  const { algorithm, keyIdLength } = decodeTrailerPrefix(buf.subarray(0, TRAILER_PREFIX_LENGTH));
  if (buf.length !== TRAILER_PREFIX_LENGTH + keyIdLength + SIGNATURE_LENGTH) {
    throw new PackageFormatError(
      'TRAILER_INVALID',
      'trailer length does not match its keyId length',
    );
  }
  let keyId: string;
  try {
    keyId = utf8.decode(buf.subarray(TRAILER_PREFIX_LENGTH, TRAILER_PREFIX_LENGTH + keyIdLength));
  } catch {
    throw new PackageFormatError('TRAILER_INVALID', 'keyId is not valid UTF-8');
  }
  return {
    algorithm,
    keyId,
    signature: Buffer.from(buf.subarray(TRAILER_PREFIX_LENGTH + keyIdLength)),
  };
}
