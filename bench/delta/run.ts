// Benchmark of delta packages (issue 15; see docs/benchmarks.md).
//
//   npx tsc -b libs/package-format && npx tsc -p bench/delta
//   scripts/node bench/delta/dist/run.js [--size 1024] [--repeat 3] [--dir /tmp]
//
// Generates a base package of --size MiB of audio (4 MiB files of random bytes) plus an
// 11 MiB database (31,102 verses with text), and a target in which one 4 MiB file is
// re-recorded and 20 verse texts are edited. Then, each in its own child process (peak RSS =
// that process's maxRSS), best of --repeat:
//   full   = writePackageToFile of the target (a full build)  — baseline for delta
//   delta  = createDeltaPackage(base, target)                 — goal < 10 % of full
//   verify = verifyPackage(target)                            — baseline for apply
//   apply  = applyDelta(base, delta)                          — goal < 1.5x verify, RSS within 20 %
// and checks that the applied package equals the target (diffPackages). Delta size goal:
// < 1 % of the full package. Results go to bench/results/delta-<timestamp>.json.
import {
  applyDelta,
  createDeltaPackage,
  diffPackages,
  verifyPackage,
  writePackageToFile,
  type PackageWriteInput,
} from '@bible/package-format';
import {
  SYNTHETIC_AUDIO_FILE_BYTES,
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
import Database from 'better-sqlite3';
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Inputs of one revision: `dir` holds package.sqlite and the .mp3 files. */
function writeInput(dir: string, revision: string): PackageWriteInput {
  return syntheticPackageInput(
    dir,
    {
      ...revisionOf(revision),
      includesVerseTimings: false,
      includesTotalVerses: SYNTHETIC_VERSES,
      bibleStructure: {
        totalBooks: 1,
        totalChapters: 1,
        totalVerses: SYNTHETIC_VERSES,
        testament: 'OT',
      },
    },
    () => ({ startVerseId: 'gen-1-1', endVerseId: 'gen-1-30', hasVerseTimings: false }),
  );
}

function revisionOf(revision: string): SyntheticRevision {
  return {
    packageId: `bench-${revision}`,
    contentRevision: revision,
    syncCursor: `cursor-${revision}`,
  };
}

// ---------------------------------------------------------------- child side

async function child(mode: string, args: string[]): Promise<void> {
  await measureInChild(async () => {
    if (mode === 'full') {
      await writePackageToFile(writeInput(args[0], args[1]), args[2]);
    } else if (mode === 'delta') {
      await createDeltaPackage({ basePath: args[0], targetPath: args[1], outputPath: args[2] });
    } else if (mode === 'verify') {
      await verifyPackage(args[0]);
    } else if (mode === 'apply') {
      await applyDelta({ basePath: args[0], deltaPath: args[1], outputPath: args[2] });
    } else {
      throw new Error(`unknown child mode ${mode}`);
    }
  });
}

// ---------------------------------------------------------------- parent side

/** Base inputs in `base/`, the target (one file re-recorded, 20 texts edited) in `target/`. */
function generateInputs(root: string, sizeMiB: number): number {
  const base = path.join(root, 'base');
  const target = path.join(root, 'target');
  fs.mkdirSync(base, { recursive: true });
  fs.mkdirSync(target, { recursive: true });
  writeSyntheticDatabase(path.join(base, 'package.sqlite'), revisionOf('r1'));
  const names = writeSyntheticAudio(base, sizeMiB, 2);
  // Hard links: the target shares the unchanged files (no second GiB on disk).
  for (const name of names.filter((_, i) => i !== 1))
    fs.linkSync(path.join(base, name), path.join(target, name));
  fs.writeFileSync(
    path.join(target, names[1]),
    randomFillSync(Buffer.allocUnsafe(SYNTHETIC_AUDIO_FILE_BYTES)),
  );
  fs.copyFileSync(path.join(base, 'package.sqlite'), path.join(target, 'package.sqlite'));
  const db = new Database(path.join(target, 'package.sqlite'));
  db.prepare(
    "UPDATE package_metadata SET value = CASE key WHEN 'packageId' THEN 'bench-r2' WHEN 'contentRevision' THEN 'r2' WHEN 'syncCursor' THEN 'cursor-r2' ELSE value END",
  ).run();
  db.prepare(
    "UPDATE package_verse_texts SET verse_text = verse_text || ' (revised)', updated_at = '2024-02-01T00:00:00.000Z' WHERE rowid % 1500 = 0",
  ).run();
  db.close();
  return names.length;
}

async function main(): Promise<void> {
  const sizeMiB = Number(benchArg('size', '1024'));
  const repeat = Number(benchArg('repeat', '3'));
  const root = fs.mkdtempSync(path.join(benchArg('dir', os.tmpdir()), 'bible-delta-bench-'));
  try {
    const files = generateInputs(root, sizeMiB);
    const p = (name: string) => path.join(root, name);
    await writePackageToFile(writeInput(p('base'), 'r1'), p('base.bible'));
    const full = best(repeat, () => {
      fs.rmSync(p('target.bible'), { force: true });
      return runChild(__filename, 'full', p('target'), 'r2', p('target.bible'));
    });
    const delta = best(repeat, () => {
      fs.rmSync(p('delta.bible'), { force: true });
      return runChild(__filename, 'delta', p('base.bible'), p('target.bible'), p('delta.bible'));
    });
    const verify = best(repeat, () => runChild(__filename, 'verify', p('target.bible')));
    const apply = best(repeat, () => {
      fs.rmSync(p('applied.bible'), { force: true });
      return runChild(__filename, 'apply', p('base.bible'), p('delta.bible'), p('applied.bible'));
    });
    const diff = await diffPackages(p('applied.bible'), p('target.bible'));
    if (!diff.identical) throw new Error(`applied package differs: ${JSON.stringify(diff)}`);
    const fullBytes = fs.statSync(p('target.bible')).size;
    const deltaBytes = fs.statSync(p('delta.bible')).size;
    const row = {
      sizeMiB,
      audioFiles: files,
      fullBytes,
      deltaBytes,
      deltaShareOfFull: +(deltaBytes / fullBytes).toFixed(5),
      fullBuildMs: Math.round(full.ms),
      fullBuildRuns: full.runs,
      deltaBuildMs: Math.round(delta.ms),
      deltaBuildRuns: delta.runs,
      deltaBuildVsFull: +(delta.ms / full.ms).toFixed(3),
      verifyMs: Math.round(verify.ms),
      verifyRuns: verify.runs,
      applyMs: Math.round(apply.ms),
      applyRuns: apply.runs,
      applyVsVerify: +(apply.ms / verify.ms).toFixed(2),
      verifyMaxRssMiB: Math.round(verify.maxRssMiB),
      applyMaxRssMiB: Math.round(apply.maxRssMiB),
      applyRssVsVerify: +(apply.maxRssMiB / verify.maxRssMiB).toFixed(2),
      appliedEqualsTarget: diff.identical,
    };
    console.log(JSON.stringify(row));
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      loadavg: os.loadavg(),
      command: 'node bench/delta/dist/run.js ' + process.argv.slice(2).join(' '),
      results: [row],
    };
    console.log(`wrote ${writeBenchResults('delta', report, report.date)}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv.slice(4)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
