import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { PACKAGE_ERROR_CODES, PackageFormatError } from './errors';
import { verifyPackage } from './reader';
import { createKeyring } from './signing';
import { VECTORS_DIR, makeTempDir } from './test-support/helpers';
import { writeVectors, type VectorCase } from './test-support/vectors';

const cases = JSON.parse(
  fs.readFileSync(path.join(VECTORS_DIR, 'expected.json'), 'utf8'),
) as VectorCase[];
const keyring = createKeyring({
  'test-key': fs.readFileSync(path.join(VECTORS_DIR, 'keys', 'test-key.public.pem')),
});

void describe('golden vectors', () => {
  void it('cover every valid package type and the listed corruptions', () => {
    const expects = new Set(cases.map((c) => c.expect));
    for (const code of [
      'valid',
      'BAD_MAGIC',
      'UNSUPPORTED_VERSION',
      'HEADER_CRC_MISMATCH',
      'LENGTH_MISMATCH',
      'TRUNCATED',
      'CONTENT_HASH_MISMATCH',
      'MANIFEST_INVALID_JSON',
      'MANIFEST_SCHEMA',
      'AUDIO_INDEX_INVALID',
      'AUDIO_FILE_HASH_MISMATCH',
      'DATABASE_HASH_MISMATCH',
      'DATABASE_UNREADABLE',
      'DATABASE_INTEGRITY',
      'SIGNATURE_MISSING',
      'SIGNATURE_UNKNOWN_KEY',
      'SIGNATURE_INVALID',
      'TRAILER_INVALID',
    ]) {
      assert.ok(expects.has(code as VectorCase['expect']), code);
    }
    for (const c of cases)
      assert.ok(c.expect === 'valid' || PACKAGE_ERROR_CODES.includes(c.expect));
  });

  for (const c of cases) {
    void it(`${c.file}${c.keyring ? ' (keyring)' : ''} → ${c.expect}`, async () => {
      const file = path.join(VECTORS_DIR, c.file);
      const options = c.keyring ? { keyring } : {};
      if (c.expect === 'valid') {
        const report = await verifyPackage(file, options);
        assert.equal(report.size, fs.statSync(file).size);
        assert.equal(report.signature.verified, Boolean(c.keyring));
        return;
      }
      await assert.rejects(verifyPackage(file, options), (err: unknown) => {
        assert.ok(err instanceof PackageFormatError, String(err));
        assert.equal(err.code, c.expect, err.message);
        return true;
      });
    });
  }

  void it('the generator is deterministic and reproduces the committed files byte for byte', async () => {
    const tmp = makeTempDir();
    after(() => tmp.cleanup());
    const regenerated = await writeVectors(tmp.dir, path.join(VECTORS_DIR, 'keys'));
    assert.deepEqual(regenerated, cases);
    for (const file of new Set(cases.map((c) => c.file))) {
      const same = fs
        .readFileSync(path.join(tmp.dir, file))
        .equals(fs.readFileSync(path.join(VECTORS_DIR, file)));
      // If this fails after a dependency upgrade (e.g. SQLite changes its file layout) and the
      // change is intended, regenerate: node libs/package-format/dist/test-support/generate-vectors.js
      assert.ok(same, `${file} differs from a fresh generation`);
    }
  });
});
