// Shared helpers for the *.spec.ts files.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PackageFormatError, type PackageErrorCode } from '../errors';
import { PackageType } from '../header';
import type { SigningKey } from '../signing';
import { writePackageToBuffer, type AudioSource } from '../writer';
import {
  buildSampleDatabase,
  sampleAudioBytes,
  sampleAudioEntry,
  sampleManifestInput,
} from './fixtures';

/** libs/package-format (specs run from dist/ or dist/test-support/). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
export const VECTORS_DIR = path.join(PACKAGE_ROOT, 'test', 'vectors');
export const CLI = path.join(PACKAGE_ROOT, 'dist', 'cli.js');

export function makeTempDir(prefix = 'pf-test-'): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export async function expectCode(
  p: Promise<unknown> | (() => unknown),
  code: PackageErrorCode,
): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.ok(err instanceof PackageFormatError, `expected PackageFormatError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

export interface SamplePackageOptions {
  packageId?: string;
  packageType?: PackageType;
  audioSizes?: number[];
  signingKey?: SigningKey;
}

/** A complete small package in memory plus the inputs it was built from. */
export async function samplePackage(
  dir: string,
  o: SamplePackageOptions = {},
): Promise<{ bytes: Buffer; audio: Buffer[]; databasePath: string }> {
  const packageId = o.packageId ?? 'sample-r1';
  const packageType = o.packageType ?? PackageType.Combined;
  const databasePath = buildSampleDatabase(path.join(dir, `${packageId}.sqlite`), {
    packageId,
    packageType,
  });
  const audio = (o.audioSizes ?? [300, 0, 200]).map((n, i) => sampleAudioBytes(n, i + 1));
  const sources: AudioSource[] = audio.map((b, i) => {
    const file = path.join(dir, `${packageId}-${i}.mp3`);
    fs.writeFileSync(file, b);
    return { entry: sampleAudioEntry(`file-${i}.mp3`, (i % 3) + 1), source: file };
  });
  const bytes = await writePackageToBuffer({
    manifest: sampleManifestInput(packageId, packageType),
    databasePath,
    audio: sources,
    signingKey: o.signingKey,
  });
  return { bytes, audio, databasePath };
}
