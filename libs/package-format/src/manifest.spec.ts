import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PackageFormatError } from './errors';
import { PackageType } from './header';
import {
  ManifestSchema,
  manifestJsonSchema,
  parseManifest,
  serializeManifest,
  validateAudioIndex,
  type AudioFileEntry,
  type Manifest,
} from './manifest';
import { sampleAudioEntry, sampleManifestInput } from './test-support/fixtures';

const hash = 'c'.repeat(64);
function manifest(overrides: Partial<Manifest> = {}): Manifest {
  const entries: AudioFileEntry[] = [
    { ...sampleAudioEntry('a.mp3', 1), offset: 0, size: 10, sha256: hash },
    { ...sampleAudioEntry('b.mp3', 2), offset: 10, size: 0, sha256: hash },
  ];
  return {
    ...sampleManifestInput('swh-combined-r1', PackageType.Combined),
    formatVersion: 1,
    estimatedSizeMB: 0.01,
    totalFiles: entries.length,
    audioFileIndex: entries,
    databaseHash: hash,
    audioDataHash: hash,
    totalContentHash: hash,
    ...overrides,
  };
}

function issues(m: unknown): string[] {
  const r = ManifestSchema.safeParse(m);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
}

void describe('manifest schema', () => {
  void it('accepts a complete manifest and round-trips through JSON', () => {
    const m = manifest();
    assert.deepEqual(issues(m), []);
    assert.deepEqual(parseManifest(serializeManifest(m)), m);
  });

  void it('enforces packageId as a safe file name', () => {
    for (const bad of ['', '.', '..', 'a/b', 'a b', 'ü', 'x'.repeat(129)]) {
      assert.deepEqual(issues(manifest({ packageId: bad })), ['packageId'], bad);
    }
    assert.deepEqual(issues(manifest({ packageId: 'x'.repeat(128) })), []);
    assert.deepEqual(issues(manifest({ packageId: 'swh_NT-1.2' })), []);
  });

  void it('applies the cross-field rules', () => {
    assert.deepEqual(issues(manifest({ totalFiles: 3 })), ['totalFiles']);
    assert.deepEqual(issues(manifest({ audioVersionId: undefined })), ['audioVersionId']);
    assert.deepEqual(issues(manifest({ packageType: PackageType.CombinedPart })), ['seriesInfo']);
    assert.ok(issues(manifest({ packageType: PackageType.Text })).includes('audioFileIndex'));
    assert.deepEqual(issues(manifest({ createdAt: '2024-01-01T00:00:00+02:00' })), ['createdAt']);
    assert.deepEqual(issues(manifest({ databaseHash: 'C'.repeat(64) })), ['databaseHash']);
  });

  void it('rejects audio file names that could escape an extraction directory', () => {
    for (const fileName of ['../x.mp3', 'a/b.mp3', 'a\\b.mp3', '..', '']) {
      const m = manifest();
      m.audioFileIndex[0] = { ...m.audioFileIndex[0], fileName };
      assert.deepEqual(issues(m), ['audioFileIndex.0.fileName'], fileName);
    }
  });

  void it('serialises canonically regardless of input key order and strips unknown keys on parse', () => {
    const m = manifest();
    const shuffled = Object.fromEntries(Object.entries(m).reverse()) as Manifest;
    assert.ok(serializeManifest(m).equals(serializeManifest(shuffled)));
    const withExtra = Buffer.from(JSON.stringify({ ...m, newerField: 1 }));
    assert.deepEqual(parseManifest(withExtra), m);
  });

  void it('reports JSON and schema errors with distinct codes', () => {
    const code = (bytes: Buffer) => {
      try {
        parseManifest(bytes);
        return 'ok';
      } catch (err) {
        return (err as PackageFormatError).code;
      }
    };
    assert.equal(code(Buffer.from('{"a":')), 'MANIFEST_INVALID_JSON');
    assert.equal(code(Buffer.from([0xff, 0xfe, 0x7b])), 'MANIFEST_INVALID_JSON');
    assert.equal(code(Buffer.from('[]')), 'MANIFEST_SCHEMA');
    assert.equal(code(Buffer.from('{"formatVersion":2}')), 'MANIFEST_SCHEMA');
  });

  void it('exports a JSON Schema for OpenAPI', () => {
    const schema = manifestJsonSchema() as {
      properties: Record<string, { enum?: unknown[] }>;
      required: string[];
    };
    assert.deepEqual(schema.properties.packageType.enum, [1, 2, 3, 4, 5, 6]);
    assert.ok(schema.required.includes('totalContentHash'));
  });
});

void describe('validateAudioIndex', () => {
  const e = (offset: number, size: number) => ({
    ...sampleAudioEntry('x.mp3', 1),
    offset,
    size,
    sha256: hash,
  });
  const code = (entries: AudioFileEntry[], audioLength: number) => {
    try {
      validateAudioIndex(entries, audioLength);
      return 'ok';
    } catch (err) {
      return (err as PackageFormatError).code;
    }
  };
  void it('accepts exact tiling, including zero-length files and an empty index', () => {
    assert.equal(code([e(0, 5), e(5, 0), e(5, 3)], 8), 'ok');
    assert.equal(code([], 0), 'ok');
    assert.equal(code([e(0, 0)], 0), 'ok');
  });
  void it('rejects overlaps, gaps and overruns', () => {
    assert.equal(code([e(0, 5), e(4, 4)], 8), 'AUDIO_INDEX_INVALID');
    assert.equal(code([e(0, 5), e(6, 2)], 8), 'AUDIO_INDEX_INVALID');
    assert.equal(code([e(0, 5), e(5, 4)], 8), 'AUDIO_INDEX_INVALID');
    assert.equal(code([e(0, 5)], 8), 'AUDIO_INDEX_INVALID');
    assert.equal(code([e(1, 7)], 8), 'AUDIO_INDEX_INVALID');
    assert.equal(code([], 3), 'AUDIO_INDEX_INVALID');
  });
});
