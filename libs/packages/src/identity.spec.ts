import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type PackageParams,
  buildJobId,
  packageIdFor,
  packageKey,
  packageTypeNumber,
} from './identity';

const text: PackageParams = { packageType: 'text', languageEntityId: 'eng', textVersionId: 'web' };

describe('packageKey', () => {
  it('is the same for equal params, whatever their key order or absent fields', () => {
    const reordered: PackageParams = {
      textVersionId: 'web',
      languageEntityId: 'eng',
      packageType: 'text',
      books: undefined,
      allowPartial: false,
    };
    assert.equal(packageKey(reordered), packageKey(text));
    assert.match(packageKey(text), /^[0-9a-f]{24}$/);
  });

  it('ignores the version a package type does not use', () => {
    assert.equal(packageKey({ ...text, audioVersionId: 'web-audio' }), packageKey(text));
  });

  it('changes with anything that changes the bytes', () => {
    const keys = new Set(
      [
        text,
        { ...text, books: ['rut'] },
        { ...text, chunking: { strategy: 'testament' as const } },
        { ...text, chunking: { strategy: 'size' as const, maxSizeMB: 50 } },
        { ...text, allowPartial: true },
        { ...text, packageType: 'combined' as const, audioVersionId: 'web-audio' },
      ].map(packageKey),
    );
    assert.equal(keys.size, 6);
  });
});

describe('buildJobId', () => {
  it('is one id per key and revision, safe for BullMQ', () => {
    assert.equal(buildJobId('abc', '1420792.31096'), 'pkg-abc-1420792_31096');
  });
});

describe('packageIdFor', () => {
  const base = { languageCode: 'ENG', versionSlug: 'World English Bible', revisionId: '7' };

  it('names language, version, type and revision', () => {
    const key = packageKey(text);
    assert.equal(packageIdFor({ ...base, params: text, key }), 'eng-world-english-bible-text-r7');
  });

  it('adds the key when books or chunking narrow the content, and the part', () => {
    const params: PackageParams = { ...text, chunking: { strategy: 'testament' } };
    const key = packageKey(params);
    assert.equal(
      packageIdFor({ ...base, params, key, part: { number: 2, total: 2 } }),
      `eng-world-english-bible-text-r7-${key.slice(0, 10)}-p2of2`,
    );
  });
});

describe('packageTypeNumber', () => {
  it('numbers audio, text and combined, parts adding 3', () => {
    assert.deepEqual([packageTypeNumber('audio', false), packageTypeNumber('text', false)], [1, 2]);
    assert.deepEqual(
      [packageTypeNumber('combined', false), packageTypeNumber('combined', true)],
      [3, 6],
    );
  });
});
