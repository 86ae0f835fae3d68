import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PackageFormatError } from './errors';
import { openPackage, readStructure, verifyPackage } from './reader';
import { BufferSource, openHttpSource, type ByteSource } from './sources';
import { expectCode, makeTempDir, samplePackage } from './test-support/helpers';
import { fixCrc, withManifest } from './test-support/surgery';

void describe('reader', () => {
  const tmp = makeTempDir();
  let pkg: Buffer;
  let audio: Buffer[];
  before(async () => {
    ({ bytes: pkg, audio } = await samplePackage(tmp.dir, {
      audioSizes: [2 * 1024 * 1024 + 3, 0, 777],
    }));
  });
  after(() => tmp.cleanup());

  void it('opens from a file, a Buffer or any ByteSource and extracts single files and the database', async () => {
    const file = path.join(tmp.dir, 'p.bible');
    fs.writeFileSync(file, pkg);
    for (const input of [file, pkg, new BufferSource(pkg)]) {
      const reader = await openPackage(input);
      try {
        assert.equal(reader.manifest.totalFiles, 3);
        const dest = path.join(tmp.dir, 'out.mp3');
        const entry = await reader.extractAudio('file-2.mp3', dest);
        assert.equal(entry.size, 777);
        assert.ok(fs.readFileSync(dest).equals(audio[2]));
        const chunks: Buffer[] = [];
        for await (const c of reader.createAudioStream(0) as AsyncIterable<Buffer>) chunks.push(c);
        assert.ok(Buffer.concat(chunks).equals(audio[0]));
        const { db, path: dbFile, close } = await reader.openDatabase();
        assert.deepEqual(
          db.prepare('SELECT value FROM package_metadata WHERE key = ?').get('packageId'),
          { value: 'sample-r1' },
        );
        await close();
        assert.ok(!fs.existsSync(dbFile));
        await expectCode(async () => reader.audioEntry(9), 'AUDIO_FILE_NOT_FOUND');
        await expectCode(async () => reader.audioEntry('nope.mp3'), 'AUDIO_FILE_NOT_FOUND');
      } finally {
        await reader.close();
      }
    }
  });

  void it('fails extraction of a file whose bytes do not match its sha256, leaving nothing behind', async () => {
    const bad = withManifest(pkg, (m) => {
      (m.audioFileIndex as { sha256: string }[])[2].sha256 = 'f'.repeat(64);
    });
    const reader = await openPackage(bad);
    const dest = path.join(tmp.dir, 'bad.mp3');
    await expectCode(reader.extractAudio(2, dest), 'AUDIO_FILE_HASH_MISMATCH');
    assert.ok(!fs.existsSync(dest) && !fs.existsSync(`${dest}.partial`));
    await assert.rejects(
      async () => {
        for await (const _c of reader.createAudioStream(2) as AsyncIterable<Buffer>) void _c;
      },
      (err: unknown) =>
        err instanceof PackageFormatError && err.code === 'AUDIO_FILE_HASH_MISMATCH',
    );
  });

  void it('reads header and manifest with two range reads', async () => {
    const reads: [number, number][] = [];
    const inner = new BufferSource(pkg);
    const counting: ByteSource = {
      size: inner.size,
      read: (o, l) => {
        reads.push([o, l]);
        return inner.read(o, l);
      },
    };
    const reader = await openPackage(counting);
    assert.deepEqual(reads, [
      [0, 128],
      [128, reader.header.manifestLength],
    ]);
  });

  void it('works over HTTP range requests (header + manifest in at most two requests)', async () => {
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) {
        res.writeHead(200, { 'Content-Length': pkg.length }).end(pkg);
        return;
      }
      const start = Number(m[1]);
      const end = Math.min(Number(m[2]), pkg.length - 1);
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${pkg.length}`, ETag: '"abc"' });
      res.end(pkg.subarray(start, end + 1));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/p.bible`;
      const source = await openHttpSource(url, { prefetch: 1024 });
      const reader = await openPackage(source);
      assert.equal(requests, 2, 'prefix request + manifest request');
      assert.equal(reader.manifest.packageId, 'sample-r1');
      const report = await verifyPackage(source, { checkDatabase: false, chunkSize: 64 * 1024 });
      assert.equal(report.contentSha256, reader.header.contentSha256);
    } finally {
      server.close();
    }
  });

  void it('readStructure reports trailer problems of signed packages', async () => {
    const signedFlag = Buffer.from(pkg);
    signedFlag.writeUInt32LE(1, 72);
    fixCrc(signedFlag.subarray(0, 128));
    await expectCode(readStructure(new BufferSource(signedFlag)), 'TRUNCATED');
    const withJunk = Buffer.concat([signedFlag, Buffer.from('JUNKJUNKJUNKJUNKJUNK')]);
    await expectCode(readStructure(new BufferSource(withJunk)), 'TRAILER_INVALID');
  });

  void it('wraps source failures as IO_ERROR', async () => {
    const broken: ByteSource = {
      size: 1000,
      read: () => Promise.reject(new Error('socket hang up')),
    };
    await expectCode(verifyPackage(broken), 'IO_ERROR');
    await expectCode(verifyPackage(path.join(tmp.dir, 'does-not-exist.bible')), 'IO_ERROR');
  });
});
