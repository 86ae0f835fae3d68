// Shows the reader accepts packages from any spec-conforming writer: these are built by a
// separate minimal implementation (test-support/hand-rolled-writer.ts) that shares no code
// with the library's writer.
import * as assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { openPackage, verifyPackage } from './reader';
import { createKeyring } from './signing';
import {
  buildSampleDatabase,
  sampleAudioBytes,
  sampleAudioEntry,
  sampleManifestInput,
  FIXED_TIME,
} from './test-support/fixtures';
import { handRolledPackage, hexSha256 } from './test-support/hand-rolled-writer';
import { expectCode, makeTempDir } from './test-support/helpers';

void describe('independent writer', () => {
  const tmp = makeTempDir();
  after(() => tmp.cleanup());
  const database = fs.readFileSync(
    buildSampleDatabase(path.join(tmp.dir, 'db.sqlite'), { packageId: 'indie-r1', packageType: 3 }),
  );
  const files = [sampleAudioBytes(1234, 5), sampleAudioBytes(0, 6), sampleAudioBytes(4321, 7)];
  const audio = Buffer.concat(files);
  let offset = 0;
  const manifest = {
    ...sampleManifestInput('indie-r1', 3),
    formatVersion: 1,
    createdAt: FIXED_TIME,
    estimatedSizeMB: 0.17,
    totalFiles: files.length,
    audioFileIndex: files.map((f, i) => {
      const e = {
        ...sampleAudioEntry(`ch${i}.mp3`, i + 1),
        offset,
        size: f.length,
        sha256: hexSha256(f),
      };
      offset += f.length;
      return e;
    }),
    databaseHash: hexSha256(database),
    audioDataHash: hexSha256(audio),
    totalContentHash: hexSha256(database, audio),
  };

  void it('accepts a plain 128-byte-header package with compact JSON', async () => {
    const pkg = handRolledPackage({
      manifestJson: JSON.stringify(manifest),
      database,
      audio,
      packageType: 3,
    });
    const report = await verifyPackage(pkg);
    assert.deepEqual(report.manifest, manifest);
    const reader = await openPackage(pkg);
    const out = path.join(tmp.dir, 'ch2.mp3');
    await reader.extractAudio('ch2.mp3', out);
    assert.ok(fs.readFileSync(out).equals(files[2]));
  });

  void it('honours a larger headerLength and accepts any JSON formatting, key order and unknown fields', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const json = JSON.stringify(
      Object.fromEntries(Object.entries({ ...manifest, x: [1] }).reverse()),
      null,
      4,
    );
    const pkg = handRolledPackage({
      manifestJson: json,
      database,
      audio,
      packageType: 3,
      headerLength: 4096,
      signWith: { keyId: 'indie', privateKey },
    });
    const report = await verifyPackage(pkg, { keyring: createKeyring({ indie: publicKey }) });
    assert.equal(report.layout.manifestOffset, 4096);
    assert.deepEqual(report.manifest, manifest);
    assert.equal(report.signature.verified, true);
  });

  void it('a text package: no audio section, no audioDataHash', async () => {
    const textDb = fs.readFileSync(
      buildSampleDatabase(path.join(tmp.dir, 'text.sqlite'), {
        packageId: 'indie-text',
        packageType: 2,
      }),
    );
    const m = {
      ...sampleManifestInput('indie-text', 2),
      formatVersion: 1,
      estimatedSizeMB: 0.16,
      totalFiles: 0,
      audioFileIndex: [],
      databaseHash: hexSha256(textDb),
      totalContentHash: hexSha256(textDb),
    };
    await verifyPackage(
      handRolledPackage({
        manifestJson: JSON.stringify(m),
        database: textDb,
        audio: Buffer.alloc(0),
        packageType: 2,
      }),
    );
    // ...and the same manifest claiming a type the header does not have is caught.
    const mismatch = handRolledPackage({
      manifestJson: JSON.stringify(m),
      database: textDb,
      audio: Buffer.alloc(0),
      packageType: 5,
    });
    await expectCode(verifyPackage(mismatch), 'MANIFEST_MISMATCH');
  });
});
