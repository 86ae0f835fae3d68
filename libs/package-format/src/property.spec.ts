// Property: any package the writer accepts round-trips exactly — same manifest, same audio
// bytes, a database that opens — whichever output strategy and source kinds were used.
import fc from 'fast-check';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { PackageType, isPartPackageType, packageTypeHasAudio } from './header';
import type { AudioFileEntryInput, ManifestInput } from './manifest';
import { openPackage, verifyPackage } from './reader';
import {
  buildSampleDatabase,
  sampleAudioBytes,
  sampleManifestInput,
} from './test-support/fixtures';
import { makeTempDir } from './test-support/helpers';
import { writePackageToBuffer, writePackageToFile, type AudioSource } from './writer';

const idChars = fc.constantFrom(...'abcXYZ019._-'.split(''));
const packageIdArb = fc
  .string({ unit: idChars, minLength: 1, maxLength: 40 })
  .filter((s) => s !== '.' && s !== '..');
const text = fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' });

const manifestArb = fc.record({
  packageId: packageIdArb,
  packageType: fc.constantFrom<PackageType[]>(1, 2, 3, 4, 5, 6),
  packageVersion: text,
  createdAt: fc
    .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  createdBy: text,
  contentRevision: text,
  syncCursor: fc.string({ maxLength: 50, unit: 'grapheme' }),
  includesBooks: fc.array(text, { maxLength: 5 }),
  conflictsWith: fc.array(packageIdArb, { maxLength: 3 }),
  supersedes: fc.option(packageIdArb, { nil: undefined }),
  includesTotalVerses: fc.nat(40000),
  delta: fc.option(fc.record({ basePackageId: packageIdArb, baseRevision: text }), {
    nil: undefined,
  }),
});

const audioArb = fc.array(
  fc.record({
    size: fc.oneof(fc.constant(0), fc.nat(3000), fc.integer({ min: 60_000, max: 140_000 })),
    duration: fc.double({ min: 0, max: 1e5, noNaN: true }),
    bitrate: fc.option(fc.integer({ min: 1, max: 320_000 }), { nil: undefined }),
    kind: fc.constantFrom('path', 'stream', 'sized-stream'),
  }),
  { maxLength: 6 },
);

void describe('property: write → read round trip', () => {
  const tmp = makeTempDir();
  after(() => tmp.cleanup());
  let run = 0;

  void it('preserves manifest, audio bytes and database', async () => {
    await fc.assert(
      fc.asyncProperty(
        manifestArb,
        audioArb,
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom('file', 'stream'),
        fc.constantFrom(4096, 65_537, 4 * 1024 * 1024),
        fc.boolean(),
        async (m, audioSpecs, chapters, strategy, chunkSize, parallelHashing) => {
          const dir = path.join(tmp.dir, `run-${run++}`);
          fs.mkdirSync(dir);
          const specs = packageTypeHasAudio(m.packageType) ? audioSpecs : [];
          const dbPath = buildSampleDatabase(path.join(dir, 'db.sqlite'), {
            packageId: m.packageId,
            packageType: m.packageType,
            contentRevision: m.contentRevision,
            syncCursor: m.syncCursor,
            delta: m.delta !== undefined,
            chapters,
          });
          const manifest: ManifestInput = {
            ...sampleManifestInput(m.packageId, m.packageType),
            ...m,
            ...(isPartPackageType(m.packageType) ? {} : { seriesInfo: undefined }),
          };
          const bytes = specs.map((s, i) => sampleAudioBytes(s.size, run * 100 + i));
          const sources: AudioSource[] = specs.map((s, i) => {
            const entry: AudioFileEntryInput = {
              fileName: `f${i}.mp3`,
              mediaFileId: `mf-${i}`,
              startVerseId: 'john-1-1',
              endVerseId: 'john-1-3',
              duration: s.duration,
              bitrate: s.bitrate,
              format: 'mp3',
              hasVerseTimings: false,
              verseCount: 0,
            };
            const file = path.join(dir, `f${i}.mp3`);
            fs.writeFileSync(file, bytes[i]);
            if (s.kind === 'path') return { entry, source: file };
            const source = Readable.from([bytes[i].subarray(0, 100), bytes[i].subarray(100)]);
            return { entry, source, ...(s.kind === 'sized-stream' ? { size: s.size } : {}) };
          });
          const input = {
            manifest,
            databasePath: dbPath,
            audio: sources,
            chunkSize,
            parallelHashing,
          };
          let pkg: Buffer;
          if (strategy === 'file') {
            const out = path.join(dir, 'p.bible');
            await writePackageToFile(input, out);
            pkg = fs.readFileSync(out);
          } else {
            pkg = await writePackageToBuffer(input);
          }

          const report = await verifyPackage(pkg, { chunkSize, parallelHashing: !parallelHashing });
          // JSON round trip drops undefined fields and fast-check's null-prototype objects.
          const expected = JSON.parse(JSON.stringify(manifest)) as Record<string, unknown>;
          for (const [k, v] of Object.entries(expected)) {
            assert.deepEqual((report.manifest as Record<string, unknown>)[k], v, k);
          }
          assert.equal(report.manifest.totalFiles, specs.length);
          assert.equal(
            report.manifest.estimatedSizeMB,
            Math.round((pkg.length / 1048576) * 100) / 100,
          );

          const reader = await openPackage(pkg);
          for (let i = 0; i < specs.length; i++) {
            const chunks: Buffer[] = [];
            for await (const c of reader.createAudioStream(i) as AsyncIterable<Buffer>)
              chunks.push(c);
            assert.ok(Buffer.concat(chunks).equals(bytes[i]), `audio ${i}`);
          }
          const { db, close } = await reader.openDatabase();
          assert.equal(
            (db.prepare('SELECT count(*) AS n FROM package_chapters').get() as { n: number }).n,
            chapters,
          );
          await close();
          fs.rmSync(dir, { recursive: true });
        },
      ),
      { numRuns: 40 },
    );
  });
});
