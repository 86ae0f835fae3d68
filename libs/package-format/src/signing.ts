import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { PackageFormatError, errorMessage } from './errors';
import { HEADER_LENGTH } from './header';
import type { SignatureTrailer } from './trailer';

/** A private key and the id under which its public half is published. */
export interface SigningKey {
  keyId: string;
  /** KeyObject or PKCS#8 PEM. */
  privateKey: KeyObject | string | Buffer;
}

/** keyId -> Ed25519 public key. */
export type Keyring = ReadonlyMap<string, KeyObject>;

export type PublicKeyInput = KeyObject | string | Buffer;

export interface PublishedPublicKey {
  keyId: string;
  algorithm: 'Ed25519';
  /** Raw 32-byte key, standard base64. */
  publicKey: string;
  /** Raw 32-byte key, base64url without padding (same as the JWK `x`). */
  publicKeyBase64Url: string;
  publicKeyPem: string;
  jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string; alg: 'EdDSA'; use: 'sig' };
}

function assertEd25519(key: KeyObject, kind: 'private' | 'public'): KeyObject {
  if (key.type !== kind || key.asymmetricKeyType !== 'ed25519') {
    throw new PackageFormatError('INVALID_KEY', `expected an Ed25519 ${kind} key`);
  }
  return key;
}

export function loadPrivateKey(input: KeyObject | string | Buffer): KeyObject {
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) return assertEd25519(input, 'private');
  try {
    return assertEd25519(createPrivateKey(input), 'private');
  } catch (err) {
    if (err instanceof PackageFormatError) throw err;
    throw new PackageFormatError('INVALID_KEY', `cannot load private key: ${errorMessage(err)}`);
  }
}

/**
 * Accepts an SPKI PEM, a private key PEM (its public half is used), a raw 32-byte key as a Buffer,
 * or the raw key as base64 / base64url text (the publishable form).
 */
export function loadPublicKey(input: PublicKeyInput): KeyObject {
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) {
    return input.type === 'private'
      ? createPublicKey(assertEd25519(input, 'private'))
      : assertEd25519(input, 'public');
  }
  try {
    if (Buffer.isBuffer(input) && input.length === 32) return publicKeyFromRaw(input);
    const text = input.toString().trim();
    if (!text.includes('-----BEGIN')) {
      const raw = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (raw.length !== 32) throw new Error('raw Ed25519 public keys are 32 bytes');
      return publicKeyFromRaw(raw);
    }
    // createPublicKey derives the public half when given a private key PEM.
    return assertEd25519(createPublicKey(text), 'public');
  } catch (err) {
    if (err instanceof PackageFormatError) throw err;
    throw new PackageFormatError('INVALID_KEY', `cannot load public key: ${errorMessage(err)}`);
  }
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

export function rawPublicKey(key: PublicKeyInput): Buffer {
  const jwk = loadPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url');
}

/** A short, stable id derived from the key itself, for callers with no naming scheme of their own. */
export function deriveKeyId(key: PublicKeyInput): string {
  const digest = createHash('sha256').update(rawPublicKey(key)).digest('hex');
  return `ed25519-${digest.slice(0, 16)}`;
}

export function generateSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

export function exportPublicKey(key: PublicKeyInput, keyId: string): PublishedPublicKey {
  const publicKey = loadPublicKey(key);
  const raw = rawPublicKey(publicKey);
  const x = raw.toString('base64url');
  return {
    keyId,
    algorithm: 'Ed25519',
    publicKey: raw.toString('base64'),
    publicKeyBase64Url: x,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    jwk: { kty: 'OKP', crv: 'Ed25519', x, kid: keyId, alg: 'EdDSA', use: 'sig' },
  };
}

export function createKeyring(
  entries: Record<string, PublicKeyInput> | Iterable<readonly [string, PublicKeyInput]>,
): Map<string, KeyObject> {
  const pairs: Iterable<readonly [string, PublicKeyInput]> =
    Symbol.iterator in entries ? entries : Object.entries(entries);
  const ring = new Map<string, KeyObject>();
  for (const [keyId, key] of pairs) ring.set(keyId, loadPublicKey(key));
  return ring;
}

function signedBytes(header: Uint8Array): Uint8Array {
  if (header.length < HEADER_LENGTH) {
    throw new PackageFormatError('INVALID_INPUT', 'a header is 128 bytes');
  }
  return header.subarray(0, HEADER_LENGTH);
}

/** Ed25519 over header bytes 0..127; the header commits to every other byte via contentSha256. */
export function signHeader(header: Uint8Array, privateKey: KeyObject | string | Buffer): Buffer {
  return sign(null, signedBytes(header), loadPrivateKey(privateKey));
}

export function verifyHeaderSignature(
  header: Uint8Array,
  signature: Uint8Array,
  publicKey: PublicKeyInput,
): boolean {
  return verify(null, signedBytes(header), loadPublicKey(publicKey), signature);
}

/**
 * Checks a package's trailer against a keyring; throws SIGNATURE_MISSING / _UNKNOWN_KEY /
 * _INVALID. Needs only the first 128 bytes and the trailer, so it works offline and before
 * the (slow) content hash.
 */
export function checkSignature(
  header: Uint8Array,
  trailer: SignatureTrailer | null,
  keyring: Keyring,
): { keyId: string } {
  if (!trailer) throw new PackageFormatError('SIGNATURE_MISSING', 'package is not signed');
  const key = keyring.get(trailer.keyId);
  if (!key) {
    throw new PackageFormatError(
      'SIGNATURE_UNKNOWN_KEY',
      `no public key for keyId "${trailer.keyId}"`,
    );
  }
  if (!verify(null, signedBytes(header), key, trailer.signature)) {
    throw new PackageFormatError(
      'SIGNATURE_INVALID',
      `signature does not verify with key "${trailer.keyId}"`,
    );
  }
  return { keyId: trailer.keyId };
}
