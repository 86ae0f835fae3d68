import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PackageFormatError } from './errors';
import { PackageType, encodeHeader } from './header';
import {
  checkSignature,
  createKeyring,
  deriveKeyId,
  exportPublicKey,
  generateSigningKeyPair,
  loadPrivateKey,
  loadPublicKey,
  publicKeyFromRaw,
  rawPublicKey,
  signHeader,
  verifyHeaderSignature,
} from './signing';
import { decodeTrailer, encodeTrailer } from './trailer';

const header = encodeHeader({
  packageType: PackageType.Text,
  manifestLength: 1,
  databaseLength: 2,
  audioLength: 0,
  contentSha256: Buffer.alloc(32, 7),
  flags: 1,
});

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof PackageFormatError ? err.code : String(err);
  }
}

void describe('signing', () => {
  const a = generateSigningKeyPair();
  const b = generateSigningKeyPair();

  void it('signs header bytes 0..127 and verifies with the public key', () => {
    const sig = signHeader(header, a.privateKeyPem);
    assert.equal(sig.length, 64);
    assert.ok(verifyHeaderSignature(header, sig, a.publicKeyPem));
    assert.ok(!verifyHeaderSignature(header, sig, b.publicKeyPem));
    const tampered = Buffer.from(header);
    tampered[50] ^= 1;
    assert.ok(!verifyHeaderSignature(tampered, sig, a.publicKeyPem));
    // Deterministic (RFC 8032), which keeps the golden vectors stable.
    assert.ok(sig.equals(signHeader(header, a.privateKeyPem)));
  });

  void it('exports publishable forms that load back to the same key', () => {
    const pub = exportPublicKey(a.publicKeyPem, 'server-2024');
    assert.equal(Buffer.from(pub.publicKey, 'base64').length, 32);
    assert.equal(pub.jwk.x, pub.publicKeyBase64Url);
    for (const form of [
      pub.publicKey,
      pub.publicKeyBase64Url,
      pub.publicKeyPem,
      a.privateKeyPem,
      Buffer.from(pub.publicKey, 'base64'),
    ]) {
      assert.ok(rawPublicKey(loadPublicKey(form)).equals(rawPublicKey(a.publicKeyPem)));
    }
    assert.ok(
      rawPublicKey(publicKeyFromRaw(rawPublicKey(a.publicKeyPem))).equals(
        rawPublicKey(a.publicKeyPem),
      ),
    );
    assert.match(deriveKeyId(a.publicKeyPem), /^ed25519-[0-9a-f]{16}$/);
    assert.equal(deriveKeyId(pub.publicKey), deriveKeyId(a.publicKeyPem));
  });

  void it('rejects non-Ed25519 and malformed keys with INVALID_KEY', () => {
    assert.equal(
      code(() => loadPublicKey('not a key')),
      'INVALID_KEY',
    );
    assert.equal(
      code(() => loadPrivateKey(a.publicKeyPem)),
      'INVALID_KEY',
    );
    assert.equal(
      code(() => loadPublicKey(Buffer.alloc(31).toString('base64'))),
      'INVALID_KEY',
    );
  });

  void it('checks a trailer against a keyring with distinct failure codes', () => {
    const ring = createKeyring({ alpha: a.publicKeyPem });
    const good = decodeTrailer(encodeTrailer('alpha', signHeader(header, a.privateKeyPem)));
    assert.deepEqual(checkSignature(header, good, ring), { keyId: 'alpha' });
    assert.equal(
      code(() => checkSignature(header, null, ring)),
      'SIGNATURE_MISSING',
    );
    const unknown = decodeTrailer(encodeTrailer('beta', signHeader(header, b.privateKeyPem)));
    assert.equal(
      code(() => checkSignature(header, unknown, ring)),
      'SIGNATURE_UNKNOWN_KEY',
    );
    const forged = decodeTrailer(encodeTrailer('alpha', signHeader(header, b.privateKeyPem)));
    assert.equal(
      code(() => checkSignature(header, forged, ring)),
      'SIGNATURE_INVALID',
    );
    assert.equal(createKeyring([['x', a.publicKeyPem]]).size, 1);
  });

  void it('encodes the trailer layout of the spec', () => {
    const sig = Buffer.alloc(64, 9);
    const t = encodeTrailer('ключ', sig);
    assert.equal(t.toString('ascii', 0, 8), 'BIBLESIG');
    assert.equal(t.readUInt32LE(8), 1);
    assert.equal(t.readUInt32LE(12), Buffer.byteLength('ключ'));
    assert.equal(t.length, 16 + 8 + 64);
    assert.deepEqual(decodeTrailer(t), { algorithm: 1, keyId: 'ключ', signature: sig });
    assert.equal(
      code(() => encodeTrailer('', sig)),
      'INVALID_INPUT',
    );
    const bad = Buffer.from(t);
    bad.writeUInt32LE(2, 8);
    assert.equal(
      code(() => decodeTrailer(bad)),
      'TRAILER_INVALID',
    );
    const badUtf8 = Buffer.from(t);
    badUtf8[16] = 0xff;
    assert.equal(
      code(() => decodeTrailer(badUtf8)),
      'TRAILER_INVALID',
    );
  });
});
