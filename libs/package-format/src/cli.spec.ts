import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { VectorCase } from './test-support/vectors';
import { CLI, VECTORS_DIR, makeTempDir } from './test-support/helpers';

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const v = (file: string) => path.join(VECTORS_DIR, file);
const testKey = path.join(VECTORS_DIR, 'keys', 'test-key.public.pem');

void describe('bible-package CLI', () => {
  const tmp = makeTempDir();
  after(() => tmp.cleanup());
  const cases = JSON.parse(fs.readFileSync(v('expected.json'), 'utf8')) as VectorCase[];

  void it('verify: exit 0 when valid, 1 with a message naming the failed check otherwise', () => {
    const ok = run('verify', v('valid-text.bible'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^OK /);
    const bad = run('verify', v('audio-index-overlap.bible'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^INVALID AUDIO_INDEX_INVALID .*overlaps/);
  });

  void it('verify gives every golden vector its expected verdict (one process per keyring setting)', () => {
    for (const withKeys of [false, true]) {
      const group = cases.filter((c) => Boolean(c.keyring) === withKeys);
      const r = run(
        'verify',
        ...group.map((c) => v(c.file)),
        ...(withKeys ? ['--public-key', testKey] : []),
      );
      assert.equal(r.status, 1, 'some vectors are invalid');
      for (const c of group) {
        const line =
          c.expect === 'valid' ? `OK ${v(c.file)}:` : `INVALID ${c.expect} ${v(c.file)}:`;
        assert.ok(
          (c.expect === 'valid' ? r.stdout : r.stderr).includes(line),
          `${c.file}: ${line}`,
        );
      }
    }
  });

  void it('verify --public-key reports the key; keys can be given as KEYID=FILE or published JSON', () => {
    const ok = run('verify', v('valid-signed.bible'), '--public-key', testKey);
    assert.match(ok.stdout, /signature verified \(keyId "test-key"\)/);
    const renamed = path.join(tmp.dir, 'whatever.pem');
    fs.copyFileSync(testKey, renamed);
    assert.equal(
      run('verify', v('valid-signed.bible'), '--public-key', `test-key=${renamed}`).status,
      0,
    );
    assert.equal(
      run('verify', v('valid-signed.bible'), '--public-key', renamed).status,
      1,
      'key id from file name',
    );
    const unchecked = run('verify', v('valid-signed.bible'));
    assert.equal(unchecked.status, 0);
    assert.match(unchecked.stdout, /present, not checked/);
    const required = run('verify', v('valid-combined.bible'), '--require-signature');
    assert.equal(required.status, 1);
    assert.match(required.stderr, /SIGNATURE_MISSING/);
  });

  void it('inspect prints the header and manifest, --json is machine-readable', () => {
    const text = run('inspect', v('valid-audio.bible'));
    assert.equal(text.status, 0);
    assert.match(text.stdout, /swh-audio-r1/);
    assert.match(text.stdout, /john-2\.mp3 {2}0 bytes/);
    const json = JSON.parse(run('inspect', v('valid-signed.bible'), '--json').stdout) as {
      header: { contentSha256: string; signed: boolean };
      signature: { keyId: string };
      manifest: { packageId: string };
    };
    assert.equal(json.signature.keyId, 'test-key');
    assert.equal(json.header.signed, true);
    assert.equal(json.manifest.packageId, 'swh-combined-signed-r1');
    const bad = run('inspect', v('bad-magic.bible'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /BAD_MAGIC/);
  });

  void it('extract writes manifest.json, package.sqlite and the audio files', () => {
    const out = path.join(tmp.dir, 'x');
    const r = run('extract', v('valid-audio.bible'), '--out', out, '--verify');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), [
      'john-1.mp3',
      'john-2.mp3',
      'john-3.mp3',
      'manifest.json',
      'package.sqlite',
    ]);
    assert.equal(fs.statSync(path.join(out, 'john-3.mp3')).size, 450);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
      packageId: string;
    };
    assert.equal(manifest.packageId, 'swh-audio-r1');
    const bad = run('extract', v('audio-file-hash.bible'), '--out', path.join(tmp.dir, 'y'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /AUDIO_FILE_HASH_MISMATCH/);
    assert.ok(!fs.existsSync(path.join(tmp.dir, 'y', 'john-2.mp3')));
  });

  void it('keygen writes a usable key pair and refuses to overwrite', () => {
    const dir = path.join(tmp.dir, 'keys');
    assert.equal(run('keygen', '--out-dir', dir, '--key-id', 'srv-1').status, 0);
    const published = JSON.parse(fs.readFileSync(path.join(dir, 'srv-1.public.json'), 'utf8')) as {
      keyId: string;
      publicKey: string;
    };
    assert.equal(published.keyId, 'srv-1');
    assert.equal(
      (fs.statSync(path.join(dir, 'srv-1.private.pem')).mode & 0o777).toString(8),
      '600',
    );
    assert.notEqual(run('keygen', '--out-dir', dir, '--key-id', 'srv-1').status, 0);
  });

  void it('usage errors exit 2', () => {
    assert.equal(run('frobnicate').status, 2);
    assert.equal(run('verify').status, 2);
  });
});
