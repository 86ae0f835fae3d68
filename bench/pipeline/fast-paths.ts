// The two hand-written object-store paths against the SDK's own way of doing the same thing, on
// the runtime this runs on (docs/benchmarks.md says which path is kept and why):
//   read    openS3Object (presigned GET read off the socket into pooled buffers) vs
//           GetObjectCommand's Body stream
//   upload  uploadMultipart (parts read into reused buffers) vs @aws-sdk/lib-storage's Upload
//           over a stream of 1 MiB chunks (what the package stream emits)
// Both sides move the same 256 MiB object with 8 MiB parts and 2 parts in flight, alternating
// over 5 rounds; reported are medians of wall time, process CPU time and major GCs, and the
// ratios library / hand-written (above 1: the hand-written path is cheaper).
//
//   npx tsc -p bench/pipeline && scripts/node bench/pipeline/dist/fast-paths.js [--mib=256]
//
// Needs the local stack's object store (`npm run stack:up -- --deps-only`).
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { createS3Client, openS3Object, uploadMultipart } from '@bible/storage';
import { repoRoot, testEnv } from '@bible/testing';

const MIB = 1024 * 1024;
const ROUNDS = 5;
const PART = 8 * MIB;

interface Sample {
  seconds: number;
  cpuSeconds: number;
  majorGcs: number;
}

let majorGcs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const detail = (entry as { detail?: { kind?: number } }).detail;
    if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++;
  }
}).observe({ entryTypes: ['gc'] });

async function measure(fn: () => Promise<void>): Promise<Sample> {
  const gcsBefore = majorGcs;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  // Let the observer deliver the GC entries of this sample.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, majorGcs: majorGcs - gcsBefore };
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

function summary(samples: Sample[]): Sample {
  return {
    seconds: median(samples.map((s) => s.seconds)),
    cpuSeconds: median(samples.map((s) => s.cpuSeconds)),
    majorGcs: median(samples.map((s) => s.majorGcs)),
  };
}

/** Counts bytes, copying nothing (both readers hand over buffers they may recycle). */
function counter(): { sink: Writable; bytes: () => number } {
  let n = 0;
  const sink = new Writable({
    highWaterMark: 4 * MIB,
    write(chunk: Buffer, _encoding, done) {
      n += chunk.length;
      done();
    },
  });
  return { sink, bytes: () => n };
}

async function main(): Promise<void> {
  const size = Number(process.argv.find((a) => a.startsWith('--mib='))?.slice(6) ?? 256) * MIB;
  const env = testEnv();
  const bucket = env.S3_BUCKET;
  const s3 = createS3Client({
    S3_ENDPOINT: env.S3_ENDPOINT,
    S3_REGION: env.S3_REGION ?? 'us-east-1',
    S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY,
    S3_BUCKET: bucket,
    S3_FORCE_PATH_STYLE: true,
  });
  const bytes = randomBytes(size);
  const source = `bench/fast-paths/source-${process.pid}.bin`;
  const targets = [
    `bench/fast-paths/own-${process.pid}.bin`,
    `bench/fast-paths/sdk-${process.pid}.bin`,
  ];
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: source, Body: bytes }));

  const variants: Record<string, () => Promise<void>> = {
    'read: openS3Object': async () => {
      const object = await openS3Object(s3, bucket, source);
      const { sink, bytes: n } = counter();
      await object.pipeTo(sink);
      if (n() !== size) throw new Error(`read ${n()} of ${size} bytes`);
    },
    'read: SDK GetObject': async () => {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: source }));
      let n = 0;
      for await (const chunk of object.Body as Readable) n += (chunk as Buffer).length;
      if (n !== size) throw new Error(`read ${n} of ${size} bytes`);
    },
    'upload: uploadMultipart': () =>
      uploadMultipart({
        client: s3,
        bucket,
        key: targets[0],
        partSize: PART,
        queueSize: 2,
        source: {
          size,
          readInto: (target, position) =>
            Promise.resolve(bytes.copy(target, 0, position, position + target.length)),
        },
      }),
    'upload: lib-storage Upload': async () => {
      async function* chunks(): AsyncGenerator<Buffer> {
        // Fresh 1 MiB chunks, as a package stream emits them.
        for (let offset = 0; offset < size; offset += MIB)
          yield Buffer.from(bytes.subarray(offset, Math.min(size, offset + MIB)));
      }
      await new Upload({
        client: s3,
        params: { Bucket: bucket, Key: targets[1], Body: Readable.from(chunks()) },
        partSize: PART,
        queueSize: 2,
      }).done();
    },
  };

  const samples: Record<string, Sample[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const names = Object.keys(variants);
    if (round % 2) names.reverse();
    for (const name of names) (samples[name] ??= []).push(await measure(variants[name]));
  }
  await Promise.all(
    [source, ...targets].map((Key) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }))),
  );
  s3.destroy();

  const result: Record<string, unknown> = {
    node: process.version,
    sizeMiB: size / MIB,
    rounds: ROUNDS,
    loadAverageAtEnd: (await import('node:os')).loadavg(),
  };
  for (const [name, list] of Object.entries(samples)) {
    const m = summary(list);
    result[name] = m;
    console.log(
      `${name.padEnd(28)} ${m.seconds.toFixed(2)} s (${(size / MIB / m.seconds).toFixed(0)} MiB/s), CPU ${m.cpuSeconds.toFixed(2)} s, major GCs ${m.majorGcs}`,
    );
  }
  for (const [own, lib] of [
    ['read: openS3Object', 'read: SDK GetObject'],
    ['upload: uploadMultipart', 'upload: lib-storage Upload'],
  ]) {
    const a = result[own] as Sample;
    const b = result[lib] as Sample;
    const ratio = { time: b.seconds / a.seconds, cpu: b.cpuSeconds / a.cpuSeconds };
    result[`${own} vs ${lib}`] = ratio;
    console.log(
      `${own} vs ${lib}: library / hand-written = ${ratio.time.toFixed(2)} (time), ${ratio.cpu.toFixed(2)} (CPU)`,
    );
  }
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `fast-paths-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`results: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
