// Golden test vectors: small valid packages of each kind plus corrupt variants that must fail
// with one exact error code. Deterministic: fixed timestamps, fixed content, committed keys
// (Ed25519 signatures are deterministic).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PackageErrorCode } from '../errors';
import { PackageType } from '../header';
import { generateSigningKeyPair } from '../signing';
import { writePackageToBuffer, type AudioSource, type PackageWriteInput } from '../writer';
import {
  buildSampleDatabase,
  sampleAudioBytes,
  sampleAudioEntry,
  sampleManifestInput,
} from './fixtures';
import { handRolledPackage, hexSha256 } from './hand-rolled-writer';
import { assemble, splitPackage, withDatabase, withHeader, withManifest } from './surgery';

export interface VectorCase {
  file: string;
  /** "valid" or the exact error code a reader must report. */
  expect: 'valid' | PackageErrorCode;
  /** Verify with the test keyring (test-key only). */
  keyring?: boolean;
  description: string;
}

export interface TestKeys {
  test: { keyId: 'test-key'; privateKey: KeyObject; publicKey: KeyObject };
  other: { keyId: 'other-key'; privateKey: KeyObject; publicKey: KeyObject };
}

export const TEST_KEY_IDS = ['test-key', 'other-key'] as const;

/** Loads the committed TEST-ONLY key pairs, creating them on the very first run. */
export function loadTestKeys(keysDir: string): TestKeys {
  const load = (id: (typeof TEST_KEY_IDS)[number]) => {
    const priv = path.join(keysDir, `${id}.private.pem`);
    const pub = path.join(keysDir, `${id}.public.pem`);
    if (!fs.existsSync(priv)) {
      fs.mkdirSync(keysDir, { recursive: true });
      const pair = generateSigningKeyPair();
      fs.writeFileSync(priv, pair.privateKeyPem);
      fs.writeFileSync(pub, pair.publicKeyPem);
    }
    const privateKey = createPrivateKey(fs.readFileSync(priv));
    return { privateKey, publicKey: createPublicKey(privateKey) };
  };
  return {
    test: { keyId: 'test-key', ...load('test-key') },
    other: { keyId: 'other-key', ...load('other-key') },
  };
}

type Built = VectorCase & { bytes?: Buffer };

function audioSources(files: { name: string; size: number; seed: number }[]): AudioSource[] {
  return files.map((f, i) => ({
    entry: sampleAudioEntry(f.name, Math.min(i + 1, 3)),
    source: fs.createReadStream(writeTemp(f.name, sampleAudioBytes(f.size, f.seed))),
  }));
}

let scratch: string | undefined;
function writeTemp(name: string, bytes: Buffer): string {
  scratch ??= fs.mkdtempSync(path.join(os.tmpdir(), 'bible-vectors-'));
  const file = path.join(scratch, `${Date.now()}-${Math.random()}-${name}`);
  fs.writeFileSync(file, bytes);
  return file;
}

async function buildValid(
  packageId: string,
  packageType: PackageType,
  audio: { name: string; size: number; seed: number }[],
  extra: Partial<PackageWriteInput> & { delta?: boolean } = {},
): Promise<Buffer> {
  scratch ??= fs.mkdtempSync(path.join(os.tmpdir(), 'bible-vectors-'));
  const dbPath = buildSampleDatabase(path.join(scratch, `${packageId}.sqlite`), {
    packageId,
    packageType,
    delta: extra.delta,
  });
  const manifest = sampleManifestInput(
    packageId,
    packageType,
    extra.delta ? { delta: { basePackageId: 'swh-combined-r1', baseRevision: 'rev-0' } } : {},
  );
  return writePackageToBuffer({
    manifest,
    databasePath: dbPath,
    audio: audioSources(audio),
    signingKey: extra.signingKey,
  });
}

const COMBINED_AUDIO = [
  { name: 'john-1.mp3', size: 500, seed: 1 },
  { name: 'john-2.mp3', size: 300, seed: 2 },
  { name: 'john-3.mp3', size: 400, seed: 3 },
];

/** Corrupts a byte at `offset` of an SQLite b-tree page so integrity_check (not open) fails. */
function corruptTablePage(db: Buffer): Buffer {
  const out = Buffer.from(db);
  // Page 2 onwards hold tables/indexes; find a table leaf page with cells (type 0x0d) after page 1.
  for (let page = 2; page * 4096 <= out.length; page++) {
    const at = (page - 1) * 4096;
    if (out[at] === 0x0d && out.readUInt16BE(at + 3) >= 3) {
      // Point the first cell beyond the page: integrity_check reports it, opening does not care.
      out.writeUInt16BE(4095, at + 8);
      return out;
    }
  }
  throw new Error('no table leaf page found');
}

export async function buildVectors(keysDir: string): Promise<Built[]> {
  const keys = loadTestKeys(keysDir);
  try {
    const audio = await buildValid('swh-audio-r1', PackageType.Audio, [
      { name: 'john-1.mp3', size: 600, seed: 11 },
      { name: 'john-2.mp3', size: 0, seed: 12 },
      { name: 'john-3.mp3', size: 450, seed: 13 },
    ]);
    const text = await buildValid('swh-text-r1', PackageType.Text, []);
    const combined = await buildValid('swh-combined-r1', PackageType.Combined, COMBINED_AUDIO);
    const part = await buildValid(
      'swh-audio-part1-r1',
      PackageType.AudioPart,
      COMBINED_AUDIO.slice(0, 2),
    );
    const delta = await buildValid(
      'swh-combined-delta-r2',
      PackageType.Combined,
      COMBINED_AUDIO.slice(2),
      {
        delta: true,
      },
    );
    const signed = await buildValid(
      'swh-combined-signed-r1',
      PackageType.Combined,
      COMBINED_AUDIO,
      {
        signingKey: { keyId: keys.test.keyId, privateKey: keys.test.privateKey },
      },
    );
    const p = splitPackage(combined);
    const manifest = JSON.parse(p.manifest.toString('utf8')) as Record<string, unknown>;

    // Independent writer: header grown to 192 bytes, pretty-printed manifest with keys in
    // reverse order and an unknown field, signed.
    const reversed = Object.fromEntries(
      Object.entries({ ...manifest, futureField: { ignored: true } }).reverse(),
    );
    const handRolled = handRolledPackage({
      manifestJson: JSON.stringify(reversed, null, 2),
      database: p.database,
      audio: p.audio,
      packageType: PackageType.Combined,
      headerLength: 192,
      signWith: { keyId: keys.test.keyId, privateKey: keys.test.privateKey },
    });

    const fakeHash = hexSha256(Buffer.from('not the real bytes'));
    const sp = splitPackage(signed);
    const signedTruncTrailer = signed.subarray(0, signed.length - 10);
    const dbBadAppId = Buffer.from(p.database);
    dbBadAppId.writeUInt32BE(0x12345678, 68);
    const dbGarbage = Buffer.alloc(p.database.length, 0x42);
    dbGarbage.write('This is not an SQLite database', 0, 'ascii');
    const db = () => p.database;
    const m = p.manifest.length;

    const list: Built[] = [
      // --- valid ---
      {
        file: 'valid-audio.bible',
        bytes: audio,
        expect: 'valid',
        description: 'audio package (type 1), 3 files incl. a zero-length one',
      },
      {
        file: 'valid-text.bible',
        bytes: text,
        expect: 'valid',
        description: 'text package (type 2), no audio section',
      },
      {
        file: 'valid-combined.bible',
        bytes: combined,
        expect: 'valid',
        description: 'combined package (type 3); base of the corrupt variants',
      },
      {
        file: 'valid-audio-part.bible',
        bytes: part,
        expect: 'valid',
        description: 'audio part (type 4) with seriesInfo',
      },
      {
        file: 'valid-delta.bible',
        bytes: delta,
        expect: 'valid',
        description: 'delta package (flags bit 1), package_deletions table',
      },
      {
        file: 'valid-signed.bible',
        bytes: signed,
        expect: 'valid',
        keyring: true,
        description: 'signed by test-key',
      },
      {
        file: 'valid-hand-rolled.bible',
        bytes: handRolled,
        expect: 'valid',
        keyring: true,
        description:
          'independent writer: headerLength 192, pretty manifest, reversed keys, unknown field, signed',
      },
      // --- header ---
      {
        file: 'bad-magic.bible',
        bytes: withHeader(combined, (h) => h.write('BIBLE002', 0, 'ascii')),
        expect: 'BAD_MAGIC',
        description: 'magic "BIBLE002"',
      },
      {
        file: 'unsupported-version.bible',
        bytes: withHeader(combined, (h) => h.writeUInt32LE(2, 8)),
        expect: 'UNSUPPORTED_VERSION',
        description: 'formatVersion 2 (CRC fixed)',
      },
      {
        file: 'header-crc.bible',
        bytes: withHeader(combined, (h) => (h[100] = 1), false),
        expect: 'HEADER_CRC_MISMATCH',
        description: 'reserved byte changed, CRC not updated',
      },
      {
        file: 'header-reserved-type.bible',
        bytes: withHeader(combined, (h) => h.writeUInt32LE(7, 12)),
        expect: 'HEADER_INVALID',
        description: 'packageType 7 (reserved), CRC fixed',
      },
      {
        file: 'length-mismatch.bible',
        bytes: withHeader(combined, (h) => h.writeBigUInt64LE(BigInt(p.database.length - 1), 20)),
        expect: 'LENGTH_MISMATCH',
        description:
          'databaseLength one byte short, CRC fixed: lengths add up to less than the file',
      },
      {
        file: 'trailing-bytes.bible',
        bytes: Buffer.concat([combined, Buffer.alloc(16)]),
        expect: 'LENGTH_MISMATCH',
        description: '16 extra bytes after the audio of an unsigned package',
      },
      {
        file: 'truncated-header.bible',
        bytes: combined.subarray(0, 100),
        expect: 'TRUNCATED',
        description: 'cut inside the header',
      },
      {
        file: 'truncated-manifest.bible',
        bytes: combined.subarray(0, 128 + Math.floor(m / 2)),
        expect: 'TRUNCATED',
        description: 'cut inside the manifest',
      },
      {
        file: 'truncated-database.bible',
        bytes: combined.subarray(0, 128 + m + 5000),
        expect: 'TRUNCATED',
        description: 'cut inside the database',
      },
      {
        file: 'truncated-audio.bible',
        bytes: combined.subarray(0, combined.length - 1),
        expect: 'TRUNCATED',
        description: 'last audio byte missing',
      },
      {
        file: 'truncated-trailer.bible',
        bytes: signedTruncTrailer,
        expect: 'TRUNCATED',
        description: 'signed package missing the last 10 signature bytes',
      },
      {
        file: 'trailer-invalid.bible',
        bytes: Buffer.concat([
          sp.header,
          sp.manifest,
          sp.database,
          sp.audio,
          Buffer.from('XIBLESIG'),
          sp.trailer.subarray(8),
        ]),
        expect: 'TRAILER_INVALID',
        description: 'trailer magic "XIBLESIG"',
      },
      // --- content ---
      {
        file: 'content-hash.bible',
        bytes: (() => {
          const b = Buffer.from(combined);
          b[b.length - 5] ^= 0xff;
          return b;
        })(),
        expect: 'CONTENT_HASH_MISMATCH',
        description: 'one audio byte flipped',
      },
      {
        file: 'manifest-invalid-json.bible',
        bytes: withManifest(combined, () => '{"formatVersion": 1, "packageId": '),
        expect: 'MANIFEST_INVALID_JSON',
        description: 'manifest is cut-off JSON (lengths and hashes resealed)',
      },
      {
        file: 'manifest-schema.bible',
        bytes: withManifest(combined, (j) => {
          j.packageId = 'bad id/with slash';
        }),
        expect: 'MANIFEST_SCHEMA',
        description: 'packageId violates [A-Za-z0-9._-]',
      },
      {
        file: 'manifest-type-mismatch.bible',
        bytes: withManifest(combined, (j) => {
          j.packageType = 1;
        }),
        expect: 'MANIFEST_MISMATCH',
        description: 'manifest packageType 1, header 3',
      },
      {
        file: 'audio-index-overlap.bible',
        bytes: withManifest(combined, (j) => {
          const e = j.audioFileIndex as { offset: number; size: number }[];
          e[1].offset -= 10;
          e[1].size += 10;
        }),
        expect: 'AUDIO_INDEX_INVALID',
        description: 'file 2 starts 10 bytes inside file 1',
      },
      {
        file: 'audio-index-gap.bible',
        bytes: withManifest(combined, (j) => {
          const e = j.audioFileIndex as { offset: number; size: number }[];
          e[1].offset += 10;
          e[1].size -= 10;
        }),
        expect: 'AUDIO_INDEX_INVALID',
        description: '10-byte gap between file 1 and file 2',
      },
      {
        file: 'audio-index-past-end.bible',
        bytes: withManifest(combined, (j) => {
          const e = j.audioFileIndex as { offset: number; size: number }[];
          e[2].size += 1;
        }),
        expect: 'AUDIO_INDEX_INVALID',
        description: 'last file runs one byte past audioLength',
      },
      {
        file: 'database-hash.bible',
        bytes: withManifest(combined, (j) => {
          j.databaseHash = fakeHash;
        }),
        expect: 'DATABASE_HASH_MISMATCH',
        description: 'manifest databaseHash wrong',
      },
      {
        file: 'audio-data-hash.bible',
        bytes: withManifest(combined, (j) => {
          j.audioDataHash = fakeHash;
        }),
        expect: 'AUDIO_DATA_HASH_MISMATCH',
        description: 'manifest audioDataHash wrong',
      },
      {
        file: 'total-content-hash.bible',
        bytes: withManifest(combined, (j) => {
          j.totalContentHash = fakeHash;
        }),
        expect: 'TOTAL_CONTENT_HASH_MISMATCH',
        description: 'manifest totalContentHash wrong',
      },
      {
        file: 'audio-file-hash.bible',
        bytes: withManifest(combined, (j) => {
          (j.audioFileIndex as { sha256: string }[])[1].sha256 = fakeHash;
        }),
        expect: 'AUDIO_FILE_HASH_MISMATCH',
        description: 'sha256 of audioFileIndex[1] wrong',
      },
      {
        file: 'database-unreadable.bible',
        bytes: withDatabase(combined, dbGarbage),
        expect: 'DATABASE_UNREADABLE',
        description: 'database section is not SQLite (hashes consistent)',
      },
      {
        file: 'database-integrity.bible',
        bytes: withDatabase(combined, corruptTablePage(db())),
        expect: 'DATABASE_INTEGRITY',
        description: 'a b-tree cell pointer points outside its page (hashes consistent)',
      },
      {
        file: 'database-schema.bible',
        bytes: withDatabase(combined, dbBadAppId),
        expect: 'DATABASE_SCHEMA',
        description: 'application_id is not 0x42424C45 (hashes consistent)',
      },
      // --- signature ---
      {
        file: 'valid-combined.bible',
        expect: 'SIGNATURE_MISSING',
        keyring: true,
        description: 'unsigned package checked against a keyring',
      },
      {
        file: 'signature-invalid.bible',
        bytes: assemble(sp, {
          reseal: false,
          resign: { keyId: keys.test.keyId, privateKey: keys.other.privateKey },
        }),
        expect: 'SIGNATURE_INVALID',
        keyring: true,
        description: 'keyId test-key but signed by another key',
      },
      {
        file: 'signature-unknown-key.bible',
        bytes: assemble(sp, {
          reseal: false,
          resign: { keyId: keys.other.keyId, privateKey: keys.other.privateKey },
        }),
        expect: 'SIGNATURE_UNKNOWN_KEY',
        keyring: true,
        description: 'signed by other-key, which the keyring lacks',
      },
      {
        file: 'signature-tampered-header.bible',
        bytes: withHeader(signed, (h) => (h[80] = 1)),
        expect: 'SIGNATURE_INVALID',
        keyring: true,
        description: 'reserved header byte changed after signing (CRC fixed)',
      },
    ];
    return list;
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    scratch = undefined;
  }
}

/** Writes the vector files and expected.json to `outDir`. */
export async function writeVectors(
  outDir: string,
  keysDir = path.join(outDir, 'keys'),
): Promise<VectorCase[]> {
  const built = await buildVectors(keysDir);
  fs.mkdirSync(outDir, { recursive: true });
  const cases: VectorCase[] = [];
  for (const v of built) {
    if (v.bytes) fs.writeFileSync(path.join(outDir, v.file), v.bytes);
    cases.push({
      file: v.file,
      expect: v.expect,
      ...(v.keyring ? { keyring: true } : {}),
      description: v.description,
    });
  }
  fs.writeFileSync(path.join(outDir, 'expected.json'), `${JSON.stringify(cases, null, 2)}\n`);
  return cases;
}
