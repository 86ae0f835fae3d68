// Benchmark of @bible/package-format on a synthetic package (see docs/benchmarks.md).
//
//   npx tsc -b libs/package-format && npx tsc -p bench/package-format
//   scripts/node bench/package-format/dist/run.js [--sizes 100,1024] [--dir /tmp] [--repeat 3]
//
// For each size it generates audio files (4 MiB of random bytes each) and a small database,
// then measures in child processes (so peak RSS is per operation):
//   write  = writePackageToFile            vs  `cat` of the same inputs into one file
//   stream = preparePackage → file stream  (informational)
//   verify = verifyPackage (full)          vs  `sha256sum` of the package
//   sha256 = one node:crypto SHA-256 pass over the package (context: the format needs four)
// Each timing is the best of --repeat runs (the machine may be shared). Results go to
// bench/results/package-format-<timestamp>.json (git-ignored).
import {
  preparePackage,
  verifyPackage,
  writePackageToFile,
  type PackageWriteInput,
} from '@bible/package-format';
import {
  SYNTHETIC_VERSES,
  type SyntheticRevision,
  benchArg,
  best,
  measureInChild,
  runChild,
  syntheticPackageInput,
  writeSyntheticAudio,
  writeBenchResults,
  writeSyntheticDatabase,
} from '@bible/testing';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';

const MIB = 1024 * 1024;

// ---------------------------------------------------------------- child side

const REVISION: SyntheticRevision = {
  packageId: 'bench-combined-r1',
  contentRevision: 'rev-1',
  syncCursor: 'cursor-1',
};

function writeInput(dir: string): PackageWriteInput {
  return syntheticPackageInput(
    dir,
    {
      ...REVISION,
      includesVerseTimings: true,
      includesTotalVerses: SYNTHETIC_VERSES,
      bibleStructure: {
        totalBooks: 66,
        totalChapters: 1189,
        totalVerses: SYNTHETIC_VERSES,
        testament: 'both',
      },
    },
    (i) => ({ startVerseId: `v-${i}-1`, endVerseId: `v-${i}-30`, hasVerseTimings: true }),
  );
}

async function child(mode: string, a: string, b: string): Promise<void> {
  await measureInChild(async () => {
    if (mode === 'write') {
      await writePackageToFile(writeInput(a), b);
    } else if (mode === 'stream') {
      const prepared = await preparePackage(writeInput(a));
      await pipeline(prepared.createReadStream(), fs.createWriteStream(b));
    } else if (mode === 'verify') {
      await verifyPackage(a);
    } else if (mode === 'sha256') {
      // One node:crypto SHA-256 pass over the file: the unit of work the format needs 4 of.
      const hash = createHash('sha256');
      for await (const chunk of fs.createReadStream(a, { highWaterMark: 8 * MIB })) {
        hash.update(chunk as Buffer);
      }
      hash.digest();
    } else {
      throw new Error(`unknown child mode ${mode}`);
    }
  });
}

// ---------------------------------------------------------------- parent side

function timeShell(cmd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', cmd], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function generateInputs(dir: string, sizeMiB: number): number {
  fs.mkdirSync(dir, { recursive: true });
  writeSyntheticDatabase(path.join(dir, 'package.sqlite'), REVISION);
  return writeSyntheticAudio(dir, sizeMiB).length;
}

function main(): void {
  const sizes = benchArg('sizes', '100,1024').split(',').map(Number);
  const root = fs.mkdtempSync(path.join(benchArg('dir', os.tmpdir()), 'bible-bench-'));
  const repeat = Number(benchArg('repeat', '3'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const sizeMiB of sizes) {
      const inputs = path.join(root, `in-${sizeMiB}`);
      const count = generateInputs(inputs, sizeMiB);
      const inputFiles = [
        'package.sqlite',
        ...fs
          .readdirSync(inputs)
          .filter((f) => f.endsWith('.mp3'))
          .sort(),
      ]
        .map((f) => path.join(inputs, f))
        .join(' ');
      const pkg = path.join(root, `p-${sizeMiB}.bible`);
      const scratch = path.join(root, 'scratch.out');
      timeShell(`cat ${inputFiles} > /dev/null`); // warm the page cache

      const cat = best(repeat, () => {
        const ms = timeShell(`cat ${inputFiles} > ${scratch}`);
        fs.rmSync(scratch);
        return { ms };
      });
      const write = best(repeat, () => {
        fs.rmSync(pkg, { force: true });
        return runChild(__filename, 'write', inputs, pkg);
      });
      const stream = best(1, () => {
        const r = runChild(__filename, 'stream', inputs, scratch);
        fs.rmSync(scratch);
        return r;
      });
      const bytes = fs.statSync(pkg).size;
      const sha = best(repeat, () => ({ ms: timeShell(`sha256sum ${pkg} > /dev/null`) }));
      const verify = best(repeat, () => runChild(__filename, 'verify', pkg));
      const nodeSha = best(repeat, () => runChild(__filename, 'sha256', pkg));
      const mibps = (ms: number) => Math.round(bytes / MIB / (ms / 1000));
      const row = {
        sizeMiB,
        packageBytes: bytes,
        audioFiles: count,
        databaseBytes: fs.statSync(path.join(inputs, 'package.sqlite')).size,
        catMs: cat.ms,
        catRuns: cat.runs,
        writeMs: write.ms,
        writeRuns: write.runs,
        writeMaxRssMiB: write.maxRssMiB,
        writeVsCat: +(cat.ms / write.ms).toFixed(2),
        streamWriteMs: stream.ms,
        streamMaxRssMiB: stream.maxRssMiB,
        sha256sumMs: sha.ms,
        sha256sumRuns: sha.runs,
        verifyMs: verify.ms,
        verifyRuns: verify.runs,
        verifyMaxRssMiB: verify.maxRssMiB,
        verifyVsSha256sum: +(sha.ms / verify.ms).toFixed(2),
        nodeSha256PassMs: nodeSha.ms,
        writeInSha256Passes: +(write.ms / nodeSha.ms).toFixed(2),
        writeMiBps: mibps(write.ms),
        verifyMiBps: mibps(verify.ms),
        sha256sumMiBps: mibps(sha.ms),
      };
      results.push(row);
      console.log(JSON.stringify(row));
      fs.rmSync(pkg, { force: true });
      fs.rmSync(inputs, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavg: os.loadavg(),
    command: 'node bench/package-format/dist/run.js ' + process.argv.slice(2).join(' '),
    results,
  };
  console.log(`wrote ${writeBenchResults('package-format', report, report.date)}`);
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4], process.argv[5]).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  main();
}
