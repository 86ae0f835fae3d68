#!/usr/bin/env node
// bible-package: inspect, verify, extract, diff .bible files; build and apply deltas; generate
// signing keys.
// Exit codes: 0 valid/ok, 1 invalid package (message names the failed check code), 2 usage
// or unexpected error.
import { Presets, SingleBar } from 'cli-progress';
import { Command, CommanderError } from 'commander';
import type { KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { applyDelta, createDeltaPackage, diffPackages, type PackageDiff } from './delta';
import { PackageFormatError, errorMessage } from './errors';
import { PackageType } from './header';
import { inspectPackage, openPackage, verifyPackage, type VerifyOptions } from './reader';
import { exportPublicKey, generateSigningKeyPair, loadPrivateKey, loadPublicKey } from './signing';
import { assertValidKeyId } from './trailer';

const MIB = 1024 * 1024;
const PROGRESS_MIN_BYTES = 64 * MIB;

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const out = (line = '') => process.stdout.write(`${line}\n`);

/** A progress callback drawing on stderr, only for big files on a terminal. */
function progressBar(
  size: number,
  label: string,
): { onProgress?: VerifyOptions['onProgress']; stop(): void } {
  if (!process.stderr.isTTY || size < PROGRESS_MIN_BYTES) return { stop: () => undefined };
  const bar = new SingleBar(
    {
      format: `${label} |{bar}| {percentage}% {value}/{total} MiB`,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(Math.ceil(size / MIB), 0);
  return {
    onProgress: (done) => bar.update(Math.floor(done / MIB)),
    stop: () => bar.stop(),
  };
}

/**
 * `--public-key` values: `KEYID=FILE`, a published `*.json` (keyId inside), or a PEM / raw
 * base64 file whose key id is the file name minus `.public.pem`, `.pem` or `.pub`.
 */
async function loadKeyring(specs: readonly string[]): Promise<Map<string, KeyObject>> {
  const ring = new Map<string, KeyObject>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const file = eq > 0 ? spec.slice(eq + 1) : spec;
    const text = await fsp.readFile(file, 'utf8').catch((err: unknown) => {
      throw new PackageFormatError('INVALID_KEY', `cannot read ${file}: ${errorMessage(err)}`);
    });
    let keyId = eq > 0 ? spec.slice(0, eq) : undefined;
    let material = text;
    if (file.endsWith('.json')) {
      const json = JSON.parse(text) as {
        keyId?: unknown;
        publicKeyPem?: unknown;
        publicKey?: unknown;
      };
      keyId ??= typeof json.keyId === 'string' ? json.keyId : undefined;
      const pem = [json.publicKeyPem, json.publicKey].find(
        (x): x is string => typeof x === 'string',
      );
      material = pem ?? '';
    }
    keyId ??= path.basename(file).replace(/(\.public)?\.(pem|pub|txt)$/, '');
    ring.set(keyId, loadPublicKey(material));
  }
  return ring;
}

function typeName(t: number): string {
  return PackageType[t] ?? `reserved(${t})`;
}

async function cmdInspect(file: string, opts: { json?: boolean }): Promise<void> {
  const info = await inspectPackage(file);
  const { header: h, manifest: m, layout: l } = info;
  if (opts.json) {
    out(
      JSON.stringify(
        {
          file,
          size: info.size,
          header: h,
          layout: l,
          signature: info.trailer ? { algorithm: 'Ed25519', keyId: info.trailer.keyId } : null,
          manifest: m,
        },
        null,
        2,
      ),
    );
    return;
  }
  const flags = [h.signed && 'signed', h.delta && 'delta'].filter(Boolean).join(', ') || 'none';
  out(`File:            ${file} (${info.size} bytes)`);
  out(
    `Package:         ${m.packageId} v${m.packageVersion} (${typeName(h.packageType)}, type ${h.packageType})`,
  );
  out(`Created:         ${m.createdAt} by ${m.createdBy}`);
  out(`Revision:        ${m.contentRevision} (syncCursor ${m.syncCursor})`);
  out(`Format:          v${h.formatVersion}, header ${h.headerLength} bytes, flags: ${flags}`);
  out(`contentSha256:   ${h.contentSha256}`);
  out(`Manifest:        ${l.manifestLength} bytes @ ${l.manifestOffset}`);
  out(`Database:        ${l.databaseLength} bytes @ ${l.databaseOffset}`);
  out(`Audio:           ${l.audioLength} bytes @ ${l.audioOffset}, ${m.totalFiles} file(s)`);
  out(`Signature:       ${info.trailer ? `Ed25519, keyId "${info.trailer.keyId}"` : 'none'}`);
  if (m.seriesInfo)
    out(
      `Series:          ${m.seriesInfo.seriesId} part ${m.seriesInfo.partNumber}/${m.seriesInfo.totalParts}`,
    );
  if (m.delta) {
    out(`Delta of:        ${m.delta.basePackageId} since ${m.delta.baseRevision}`);
    if (m.delta.targetPackageId) out(`Produces:        ${m.delta.targetPackageId}`);
  }
  m.audioFileIndex.forEach((e, i) => {
    out(`  [${i}] ${e.fileName}  ${e.size} bytes @ ${e.offset}  sha256 ${e.sha256.slice(0, 16)}…`);
  });
  out('(structure checked; hashes not verified — run `bible-package verify`)');
}

interface VerifyCliOptions {
  publicKey?: string[];
  requireSignature?: boolean;
  database?: boolean;
  json?: boolean;
}

/** Verifies one file; returns false (after printing why) if it is invalid. */
async function verifyOne(
  file: string,
  keyring: Map<string, KeyObject> | undefined,
  opts: VerifyCliOptions,
): Promise<boolean> {
  const size = (await fsp.stat(file).catch(() => undefined))?.size ?? 0;
  const bar = progressBar(size, 'verifying');
  try {
    const report = await verifyPackage(file, {
      keyring,
      requireSignature: opts.requireSignature,
      checkDatabase: opts.database !== false,
      onProgress: bar.onProgress,
    });
    bar.stop();
    const s = report.signature;
    if (opts.json) {
      out(
        JSON.stringify({
          file,
          valid: true,
          packageId: report.manifest.packageId,
          contentSha256: report.contentSha256,
          signature: s,
        }),
      );
      return true;
    }
    const sig = s.verified
      ? `verified (keyId "${s.keyId}")`
      : s.present
        ? `present, not checked (keyId "${s.keyId}"; pass --public-key)`
        : 'none';
    out(
      `OK ${file}: ${report.manifest.packageId} (${typeName(report.header.packageType)}), ${report.size} bytes`,
    );
    out(`   contentSha256 ${report.contentSha256}; signature ${sig}`);
    return true;
  } catch (err) {
    bar.stop();
    if (!(err instanceof PackageFormatError)) throw err;
    if (opts.json) {
      out(JSON.stringify({ file, valid: false, code: err.code, message: err.message }));
    }
    process.stderr.write(
      `INVALID ${err.code} ${file}: ${err.message.replace(`${err.code}: `, '')}\n`,
    );
    return false;
  }
}

async function cmdVerify(files: string[], opts: VerifyCliOptions): Promise<void> {
  const keyring = opts.publicKey?.length ? await loadKeyring(opts.publicKey) : undefined;
  let failed = 0;
  for (const file of files) if (!(await verifyOne(file, keyring, opts))) failed++;
  if (failed > 0) process.exitCode = 1;
}

const RESERVED_NAMES = new Set(['manifest.json', 'package.sqlite']);

async function cmdExtract(file: string, opts: { out: string; verify?: boolean }): Promise<void> {
  const reader = await openPackage(file);
  try {
    const names = new Set<string>();
    for (const e of reader.manifest.audioFileIndex) {
      if (names.has(e.fileName) || RESERVED_NAMES.has(e.fileName)) {
        throw new PackageFormatError(
          'AUDIO_INDEX_INVALID',
          `cannot extract: file name "${e.fileName}" is used twice`,
        );
      }
      names.add(e.fileName);
    }
    if (opts.verify) {
      const bar = progressBar(reader.size, 'verifying');
      try {
        await reader.verify({ onProgress: bar.onProgress });
      } finally {
        bar.stop();
      }
    }
    await fsp.mkdir(opts.out, { recursive: true });
    await fsp.writeFile(path.join(opts.out, 'manifest.json'), reader.manifestBytes);
    await reader.extractDatabase(path.join(opts.out, 'package.sqlite'));
    const bar = progressBar(reader.layout.audioLength, 'extracting');
    let done = 0;
    for (let i = 0; i < reader.manifest.audioFileIndex.length; i++) {
      const e = await reader.extractAudio(
        i,
        path.join(opts.out, reader.manifest.audioFileIndex[i].fileName),
      );
      done += e.size;
      bar.onProgress?.(done, reader.layout.audioLength);
    }
    bar.stop();
    out(
      `extracted ${reader.manifest.packageId} to ${opts.out}: manifest.json, package.sqlite, ${reader.manifest.totalFiles} audio file(s) (each sha256-checked)`,
    );
  } finally {
    await reader.close();
  }
}

async function cmdKeygen(opts: { outDir: string; keyId: string; force?: boolean }): Promise<void> {
  assertValidKeyId(opts.keyId);
  if (!/^[A-Za-z0-9._-]+$/.test(opts.keyId)) {
    throw new PackageFormatError(
      'INVALID_INPUT',
      'use [A-Za-z0-9._-] in key ids (they become file names)',
    );
  }
  await fsp.mkdir(opts.outDir, { recursive: true });
  const pair = generateSigningKeyPair();
  const published = exportPublicKey(pair.publicKeyPem, opts.keyId);
  const flag = opts.force ? 'w' : 'wx';
  const base = path.join(opts.outDir, opts.keyId);
  await fsp.writeFile(`${base}.private.pem`, pair.privateKeyPem, { flag, mode: 0o600 });
  await fsp.writeFile(`${base}.public.pem`, pair.publicKeyPem, { flag });
  await fsp.writeFile(`${base}.public.json`, `${JSON.stringify(published, null, 2)}\n`, { flag });
  out(`wrote ${base}.private.pem (keep secret), ${base}.public.pem, ${base}.public.json`);
  out(`keyId ${opts.keyId}, public key (raw, base64): ${published.publicKey}`);
}

async function cmdApply(
  base: string,
  delta: string,
  opts: { output: string; publicKey?: string[]; verifyBase?: boolean; json?: boolean },
): Promise<void> {
  const publicKey = opts.publicKey?.length ? await loadKeyring(opts.publicKey) : undefined;
  const size = (await fsp.stat(base).catch(() => undefined))?.size ?? 0;
  const bar = progressBar(size, 'applying');
  let result;
  try {
    result = await applyDelta({
      basePath: base,
      deltaPath: delta,
      outputPath: opts.output,
      publicKey,
      verifyBase: opts.verifyBase,
      onProgress: bar.onProgress && ((p) => bar.onProgress?.(p.bytesDone, p.bytesTotal)),
    });
  } finally {
    bar.stop();
  }
  if (opts.json) {
    out(JSON.stringify(result));
    return;
  }
  out(
    `wrote ${result.path}: ${result.packageId} at ${result.contentRevision}, ${result.size} bytes`,
  );
  out(
    `   ${result.upserts} row(s) upserted, ${result.deletions} deleted; ${result.deltaFiles} audio file(s) from the delta, ${result.reusedFiles} from the base`,
  );
  out(`   contentSha256 ${result.contentSha256}; syncCursor ${result.syncCursor}`);
}

function printDiff(d: PackageDiff): void {
  if (d.identical) {
    out(`identical: ${d.a.packageId} and ${d.b.packageId} have the same rows and audio files`);
    return;
  }
  out(`--- ${d.a.path} (${d.a.packageId})`);
  out(`+++ ${d.b.path} (${d.b.packageId})`);
  for (const m of d.manifest) {
    out(`manifest.${m.field}: ${JSON.stringify(m.a)} -> ${JSON.stringify(m.b)}`);
  }
  for (const t of d.tables) {
    out(`table ${t.table}: +${t.added} -${t.removed} ~${t.changed}`);
    for (const [sign, keys] of [
      ['+', t.examples.added],
      ['-', t.examples.removed],
      ['~', t.examples.changed],
    ] as const) {
      for (const k of keys) out(`  ${sign} ${k}`);
    }
  }
  for (const f of d.audio.added) out(`audio + ${f}`);
  for (const f of d.audio.removed) out(`audio - ${f}`);
  for (const f of d.audio.changed) out(`audio ~ ${f}`);
}

/** Like diff(1): exit 0 when identical, 1 when different, 2 on trouble. */
async function cmdDiff(
  a: string,
  b: string,
  opts: { json?: boolean; strict?: boolean },
): Promise<void> {
  try {
    const d = await diffPackages(a, b, { strict: opts.strict });
    if (opts.json) out(JSON.stringify(d, null, 2));
    else printDiff(d);
    process.exitCode = d.identical ? 0 : 1;
  } catch (err) {
    if (!(err instanceof PackageFormatError)) throw err;
    process.stderr.write(`ERROR ${err.message}\n`);
    process.exitCode = 2;
  }
}

async function cmdDelta(
  base: string,
  target: string,
  opts: { output: string; key?: string; keyId?: string; packageId?: string; json?: boolean },
): Promise<void> {
  if (opts.key && !opts.keyId) {
    throw new PackageFormatError('INVALID_INPUT', '--key needs --key-id');
  }
  const signingKey =
    opts.key && opts.keyId
      ? { keyId: opts.keyId, privateKey: loadPrivateKey(await fsp.readFile(opts.key, 'utf8')) }
      : undefined;
  const result = await createDeltaPackage({
    basePath: base,
    targetPath: target,
    outputPath: opts.output,
    packageId: opts.packageId,
    signingKey,
  });
  if (opts.json) {
    out(JSON.stringify(result));
    return;
  }
  out(`wrote ${result.path}: ${result.packageId}, ${result.size} bytes`);
  out(
    `   ${result.upserts} row(s) upserted, ${result.deletions} deletion(s); ${result.deltaFiles} audio file(s) carried, ${result.reusedFiles} reused from the base`,
  );
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function buildProgram(): Command {
  const program = new Command('bible-package')
    .description('Inspect, verify and extract .bible packages')
    .version(version())
    .exitOverride()
    .showHelpAfterError();
  program
    .command('inspect')
    .description('show header, manifest and audio index (no hashing)')
    .argument('<file>', '.bible file')
    .option('--json', 'machine-readable output')
    .action(cmdInspect);
  program
    .command('verify')
    .description('run every check of the spec; exit 0 if all files are valid, 1 otherwise')
    .argument('<file...>', '.bible file(s)')
    .option(
      '--public-key <KEYID=FILE|FILE>',
      'trusted public key (repeatable); a valid signature by one of them is then required',
      collect,
    )
    .option('--require-signature', 'fail unsigned packages even without --public-key')
    .option('--no-database', 'skip opening the database (integrity_check)')
    .option('--json', 'machine-readable output on success')
    .action(cmdVerify);
  program
    .command('extract')
    .description('write manifest.json, package.sqlite and every audio file (each sha256-checked)')
    .argument('<file>', '.bible file')
    .requiredOption('--out <dir>', 'output directory')
    .option('--verify', 'run the full verification first')
    .action(cmdExtract);
  program
    .command('apply')
    .description('apply a delta package to its base, writing the full package at the new revision')
    .argument('<base>', 'the full package the delta was built against')
    .argument('<delta>', 'the delta package')
    .requiredOption('-o, --output <file>', 'where to write the new full package')
    .option(
      '--public-key <KEYID=FILE|FILE>',
      'trusted public key (repeatable); both packages must then be signed by one of them',
      collect,
    )
    .option('--verify-base', 'hash the whole base too, not only the parts taken from it')
    .option('--json', 'machine-readable output')
    .action(cmdApply);
  program
    .command('diff')
    .description('compare two packages row by row and file by file; exit 0 identical, 1 different')
    .argument('<a>', '.bible file')
    .argument('<b>', '.bible file')
    .option('--strict', 'also compare createdAt, estimatedSizeMB and database byte hashes')
    .option('--json', 'machine-readable output')
    .action(cmdDiff);
  program
    .command('delta')
    .description('build a delta package from two full packages (base and target)')
    .argument('<base>', 'the full package clients hold')
    .argument('<target>', 'the full package at the new revision')
    .requiredOption('-o, --output <file>', 'where to write the delta')
    .option('--key <PRIVATE.pem>', 'sign with this Ed25519 private key')
    .option('--key-id <id>', 'keyId to sign under')
    .option('--package-id <id>', "the delta's own packageId")
    .option('--json', 'machine-readable output')
    .action(cmdDelta);
  program
    .command('keygen')
    .description('generate an Ed25519 signing key pair')
    .requiredOption('--out-dir <dir>', 'where to write the key files')
    .requiredOption('--key-id <id>', 'id the public key is published under')
    .option('--force', 'overwrite existing files')
    .action(cmdKeygen);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    process.exitCode = undefined;
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof PackageFormatError) {
      // Environment/caller problems are not a verdict on the package, but still not "valid".
      const kind = ['IO_ERROR', 'INVALID_INPUT', 'INVALID_KEY'].includes(err.code)
        ? 'ERROR'
        : 'INVALID';
      process.stderr.write(`${kind} ${err.message}\n`);
      return 1;
    }
    const sys = err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
    process.stderr.write(
      `error: ${err instanceof Error ? (sys ? err.message : (err.stack ?? err.message)) : String(err)}\n`,
    );
    return 2;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
