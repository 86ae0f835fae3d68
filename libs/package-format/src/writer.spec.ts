import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { PackageType } from './header';
import { verifyPackage } from './reader';
import { createKeyring, generateSigningKeyPair } from './signing';
import {
  buildSampleDatabase,
  sampleAudioBytes,
  sampleAudioEntry,
  sampleManifestInput,
} from './test-support/fixtures';
import { expectCode, makeTempDir } from './test-support/helpers';
import {
  createPackageStream,
  preparePackage,
  writePackageToBuffer,
  writePackageToFile,
  type AudioSource,
  type PackageWriteInput,
} from './writer';

void describe('writer', () => {
  const tmp = makeTempDir();
  const spool = path.join(tmp.dir, 'spool');
  let dbPath = '';
  const audio = [
    sampleAudioBytes(3 * 1024 * 1024 + 17, 1),
    Buffer.alloc(0),
    sampleAudioBytes(5000, 2),
  ];
  const files: string[] = [];
  before(() => {
    fs.mkdirSync(spool);
    dbPath = buildSampleDatabase(path.join(tmp.dir, 'db.sqlite'), {
      packageId: 'w-r1',
      packageType: PackageType.Combined,
    });
    audio.forEach((b, i) => {
      files.push(path.join(tmp.dir, `a${i}.mp3`));
      fs.writeFileSync(files[i], b);
    });
  });
  after(() => tmp.cleanup());

  /** Mixes every source kind: path, stream with size, stream without size. */
  const input = (extra: Partial<PackageWriteInput> = {}): PackageWriteInput => ({
    manifest: sampleManifestInput('w-r1', PackageType.Combined),
    databasePath: dbPath,
    audio: [
      { entry: sampleAudioEntry('a.mp3', 1), source: files[0] },
      { entry: sampleAudioEntry('b.mp3', 2), source: Readable.from([audio[1]]), size: 0 },
      {
        entry: sampleAudioEntry('c.mp3', 3),
        source: fs.createReadStream(files[2], { highWaterMark: 999 }),
      },
    ],
    tempDir: spool,
    chunkSize: 1024 * 1024,
    ...extra,
  });

  void it('stream and file strategies produce byte-identical, verifiable packages', async () => {
    const out = path.join(tmp.dir, 'out.bible');
    const written = await writePackageToFile(input(), out);
    const streamed = await writePackageToBuffer(input());
    const file = fs.readFileSync(out);
    assert.ok(file.equals(streamed));
    // The worker-thread hashing path gives the same bytes.
    const parallel = path.join(tmp.dir, 'parallel.bible');
    await writePackageToFile(input({ parallelHashing: true }), parallel);
    assert.ok(fs.readFileSync(parallel).equals(file));
    assert.ok((await writePackageToBuffer(input({ parallelHashing: true }))).equals(file));
    await verifyPackage(parallel, { parallelHashing: true });
    assert.equal(written.size, file.length);
    assert.equal(
      written.contentSha256,
      createHash('sha256').update(file.subarray(128)).digest('hex'),
    );
    assert.equal(written.manifest.estimatedSizeMB, Math.round((file.length / 1048576) * 100) / 100);
    assert.deepEqual(
      written.manifest.audioFileIndex.map((e) => [e.fileName, e.offset, e.size]),
      [
        ['a.mp3', 0, audio[0].length],
        ['b.mp3', audio[0].length, 0],
        ['c.mp3', audio[0].length, 5000],
      ],
    );
    assert.equal(
      written.manifest.audioFileIndex[2].sha256,
      createHash('sha256').update(audio[2]).digest('hex'),
    );
    const report = await verifyPackage(out);
    assert.deepEqual(report.manifest, written.manifest);
    assert.deepEqual(fs.readdirSync(spool), [], 'temp files removed');
    assert.deepEqual(
      fs.readdirSync(tmp.dir).filter((f) => f.includes('partial')),
      [],
    );
  });

  void it("takes a caller's verified sha256 instead of hashing the file again", async () => {
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const withHints = (hint: (i: number) => string): PackageWriteInput => ({
      ...input(),
      audio: files.map((f, i) => ({
        entry: sampleAudioEntry(`${i}.mp3`, i + 1),
        source: f,
        sha256: hint(i),
      })),
    });
    const plain: PackageWriteInput = {
      ...input(),
      audio: files.map((f, i) => ({ entry: sampleAudioEntry(`${i}.mp3`, i + 1), source: f })),
    };
    // The right hashes give the same bytes as hashing, on both strategies and both threads.
    const expected = await writePackageToBuffer(plain);
    const hinted = withHints((i) => sha(audio[i]));
    assert.ok((await writePackageToBuffer(hinted)).equals(expected));
    assert.ok((await writePackageToBuffer({ ...hinted, parallelHashing: true })).equals(expected));
    const out = path.join(tmp.dir, 'hinted.bible');
    await writePackageToFile(hinted, out);
    assert.ok(fs.readFileSync(out).equals(expected));
    // The hint is used as given (no second hash), so a wrong one shows up at verification.
    const wrong = await writePackageToBuffer(withHints((i) => sha(audio[(i + 1) % 3])));
    await expectCode(verifyPackage(wrong), 'AUDIO_FILE_HASH_MISMATCH');
    await expectCode(writePackageToBuffer(withHints(() => 'abc')), 'INVALID_INPUT');
  });

  void it('reads a file inside another file from an offset, on both strategies', async () => {
    // All three files concatenated behind a 100-byte prefix, read in place by offset.
    const combined = path.join(tmp.dir, 'combined.bin');
    fs.writeFileSync(combined, Buffer.concat([Buffer.alloc(100, 7), ...audio]));
    let at = 100;
    const ranged: PackageWriteInput = {
      ...input(),
      audio: audio.map((b, i) => {
        const a: AudioSource = {
          entry: sampleAudioEntry(`${i}.mp3`, i + 1),
          source: combined,
          offset: at,
          size: b.length,
        };
        at += b.length;
        return a;
      }),
    };
    const plain: PackageWriteInput = {
      ...input(),
      audio: files.map((f, i) => ({ entry: sampleAudioEntry(`${i}.mp3`, i + 1), source: f })),
    };
    const expected = await writePackageToBuffer(plain);
    assert.ok((await writePackageToBuffer(ranged)).equals(expected));
    const out = path.join(tmp.dir, 'ranged.bible');
    await writePackageToFile(ranged, out);
    assert.ok(fs.readFileSync(out).equals(expected));
    const past = ranged.audio?.map((a, i) => (i === 2 ? { ...a, offset: at } : a));
    await expectCode(writePackageToBuffer({ ...ranged, audio: past }), 'INVALID_INPUT');
    const unsized = ranged.audio?.map((a) => ({ ...a, size: undefined }));
    await expectCode(writePackageToBuffer({ ...ranged, audio: unsized }), 'INVALID_INPUT');
  });

  void it('preparePackage exposes size and ETag before the body; signing adds the trailer', async () => {
    const keys = generateSigningKeyPair();
    const prepared = await preparePackage(
      input({ signingKey: { keyId: 'k1', privateKey: keys.privateKeyPem } }),
    );
    const chunks: Buffer[] = [];
    for await (const c of prepared.createReadStream() as AsyncIterable<Buffer>) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.length, prepared.size);
    assert.ok(prepared.header.signed);
    assert.ok(bytes.subarray(0, 128).equals(prepared.headerBytes));
    const report = await verifyPackage(bytes, {
      keyring: createKeyring({ k1: keys.publicKeyPem }),
    });
    assert.deepEqual(report.signature, { present: true, keyId: 'k1', verified: true });
    assert.deepEqual(fs.readdirSync(spool), []);
  });

  void it('readInto gives random access to the same bytes as the stream', async () => {
    const keys = generateSigningKeyPair();
    const signed = input({ signingKey: { keyId: 'k1', privateKey: keys.privateKeyPem } });
    const expected = await writePackageToBuffer({ ...signed, audio: input().audio });
    const prepared = await preparePackage({ ...signed, audio: input().audio });
    try {
      assert.equal(prepared.size, expected.length);
      // Reads that start and end inside, across and exactly at section boundaries, concurrently.
      const starts = [0, 1, 127, 128, 129, 1000, expected.length - 200, expected.length - 1];
      for (let i = 0; i < 40; i++) starts.push(Math.floor(Math.random() * expected.length));
      await Promise.all(
        starts.map(async (start) => {
          for (const len of [1, 97, 4096, 1024 * 1024 + 3]) {
            const target = Buffer.alloc(len);
            const n = await prepared.readInto(target, start);
            assert.equal(n, Math.min(len, expected.length - start));
            assert.ok(
              target.subarray(0, n).equals(expected.subarray(start, start + n)),
              `${start}+${len}`,
            );
          }
        }),
      );
      // Whole package in part-sized reads into one reused buffer.
      const part = Buffer.alloc(700_001);
      const parts: Buffer[] = [];
      for (let pos = 0; pos < prepared.size;) {
        const n = await prepared.readInto(part, pos);
        parts.push(Buffer.from(part.subarray(0, n)));
        pos += n;
      }
      assert.ok(Buffer.concat(parts).equals(expected));
      assert.equal(await prepared.readInto(part, prepared.size), 0);
      await assert.rejects(prepared.readInto(part, prepared.size + 1), RangeError);
    } finally {
      await prepared.dispose();
    }
    await assert.rejects(prepared.readInto(Buffer.alloc(1), 0), /after dispose/);
    assert.deepEqual(fs.readdirSync(spool), [], 'temp files removed');
  });

  void it('cleans up when the consumer destroys the stream early', async () => {
    const stream = createPackageStream(input());
    for await (const _chunk of stream as AsyncIterable<Buffer>) break;
    // Cleanup runs after the destroy; on a busy machine it takes longer than a fixed 50 ms.
    for (let waited = 0; fs.readdirSync(spool).length > 0 && waited < 5_000; waited += 25)
      await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(fs.readdirSync(spool), []);
  });

  void it('rejects bad input before doing heavy work', async () => {
    const text = sampleManifestInput('w-r1', PackageType.Text);
    await expectCode(writePackageToBuffer(input({ manifest: text })), 'INVALID_INPUT');
    await expectCode(
      writePackageToBuffer(input({ manifest: { ...input().manifest, packageId: '../x' } })),
      'INVALID_INPUT',
    );
    const dup: AudioSource[] = [
      { entry: sampleAudioEntry('same.mp3', 1), source: files[2] },
      { entry: sampleAudioEntry('same.mp3', 2), source: files[2] },
    ];
    await expectCode(writePackageToBuffer(input({ audio: dup })), 'INVALID_INPUT');
    await expectCode(
      writePackageToFile(
        input({
          audio: [
            {
              entry: sampleAudioEntry('x.mp3', 1),
              source: Readable.from([Buffer.alloc(10)]),
              size: 11,
            },
          ],
        }),
        path.join(tmp.dir, 'bad.bible'),
      ),
      'INVALID_INPUT',
    );
    await expectCode(
      writePackageToBuffer(
        input({ audio: [{ entry: sampleAudioEntry('x.mp3', 1), source: files[2], size: 1 }] }),
      ),
      'INVALID_INPUT',
    );
    await expectCode(writePackageToBuffer(input({ databasePath: files[2] })), 'INVALID_INPUT');
    await expectCode(
      writePackageToBuffer(input({ databasePath: path.join(tmp.dir, 'missing') })),
      'IO_ERROR',
    );
    await expectCode(
      writePackageToBuffer(input({ signingKey: { keyId: 'k', privateKey: 'nope' } })),
      'INVALID_KEY',
    );
    const failing = () =>
      new Readable({
        read() {
          this.destroy(new Error('upstream reset'));
        },
      });
    for (const size of [undefined, 100]) {
      await expectCode(
        writePackageToFile(
          input({ audio: [{ entry: sampleAudioEntry('x.mp3', 1), source: failing(), size }] }),
          path.join(tmp.dir, 'bad.bible'),
        ),
        'IO_ERROR',
      );
    }
    assert.ok(!fs.existsSync(path.join(tmp.dir, 'bad.bible')));
    assert.deepEqual(fs.readdirSync(spool), []);
    assert.deepEqual(
      fs.readdirSync(tmp.dir).filter((f) => f.includes('partial')),
      [],
    );
  });

  void it('sets the delta flag from manifest.delta', async () => {
    const deltaDb = buildSampleDatabase(path.join(tmp.dir, 'delta.sqlite'), {
      packageId: 'w-r1',
      packageType: PackageType.Text,
      delta: true,
    });
    const bytes = await writePackageToBuffer({
      manifest: sampleManifestInput('w-r1', PackageType.Text, {
        delta: { basePackageId: 'w-r0', baseRevision: 'rev-0' },
      }),
      databasePath: deltaDb,
    });
    const report = await verifyPackage(bytes);
    assert.ok(report.header.delta);
    assert.equal(report.header.audioLength, 0);
    assert.equal(report.manifest.audioDataHash, undefined);
  });
});
