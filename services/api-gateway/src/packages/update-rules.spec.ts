import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PackageParams } from '@bible/packages';
import { deltaObstacle, deltaTooLarge } from './update-rules';

const params: PackageParams = {
  packageType: 'audio',
  languageEntityId: 'eng',
  audioVersionId: 'web-audio-john',
};
const held = { status: 'ready', package_key: 'k1', base_revision: null };

void describe('update rules', () => {
  void it('a delta needs a downloadable full package of the same content', () => {
    assert.equal(deltaObstacle(held, 'k1', params), undefined);
    assert.equal(deltaObstacle({ ...held, status: 'stale' }, 'k1', params), undefined);
    assert.equal(deltaObstacle(null, 'k1', params), 'base_unknown');
    assert.equal(deltaObstacle({ ...held, base_revision: '1.2' }, 'k1', params), 'base_is_delta');
    assert.equal(deltaObstacle(held, 'k2', params), 'base_other_content');
    assert.equal(deltaObstacle({ ...held, status: 'expired' }, 'k1', params), 'base_expired');
    assert.equal(
      deltaObstacle(held, 'k1', { ...params, chunking: { strategy: 'testament' } }),
      undefined,
      'series parts are updated part by part',
    );
    assert.equal(deltaObstacle(held, 'k1', { ...params, allowPartial: true }), 'partial_package');
  });

  void it('a delta above the configured share of the full package is not worth it', () => {
    assert.equal(deltaTooLarge(50, 100, 0.5), false);
    assert.equal(deltaTooLarge(51, 100, 0.5), true);
    assert.equal(deltaTooLarge(99, 100, 1), false);
    assert.equal(deltaTooLarge(10, 0, 0.5), false, 'unknown full size: build the delta');
  });
});
