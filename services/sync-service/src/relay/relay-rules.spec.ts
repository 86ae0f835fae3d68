import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type FeedRow,
  backoffMs,
  invalidationTargets,
  jobIdOf,
  jobOf,
  lagSeconds,
} from './relay-rules';
import { rate } from '../stats/sync-stats.service';

function row(txid: number, id: number, scope: { audio?: string; text?: string } = {}): FeedRow {
  return {
    txid: String(txid),
    id: String(id),
    table_name: scope.audio ? 'media_files' : 'verse_texts',
    record_id: `r${id}`,
    audio_version_id: scope.audio ?? null,
    text_version_id: scope.text ?? null,
    changed_at: new Date(1_000),
  };
}

describe('relay rules', () => {
  it('one BullMQ job per change, keyed by its feed position (no ":" allowed in job ids)', () => {
    const job = jobOf(row(900, 12, { text: 'tv1' }));
    assert.deepEqual(job, {
      name: 'change',
      data: { position: '900:12', table: 'verse_texts', recordId: 'r12' },
      jobId: 'cl-900-12',
    });
    assert.doesNotMatch(jobIdOf(row(1, 2)), /:/);
  });

  it('invalidation targets: each touched scope with the newest position of the batch (by txid, then id)', () => {
    const targets = invalidationTargets([
      row(10, 5, { text: 'tv1' }),
      row(9, 7, { text: 'tv1' }),
      row(10, 6, { audio: 'av1' }),
      row(11, 1, { text: 'tv2' }),
      row(12, 2),
    ]);
    assert.deepEqual(targets, [
      { col: 'audio_version_id', scope_id: 'av1', txid: '10', id: '6' },
      { col: 'text_version_id', scope_id: 'tv1', txid: '10', id: '5' },
      { col: 'text_version_id', scope_id: 'tv2', txid: '11', id: '1' },
    ]);
  });

  it('lag and backoff', () => {
    assert.equal(lagSeconds(new Date(1_000), 3_500), 2.5);
    assert.equal(lagSeconds(new Date(5_000), 3_500), 0);
    assert.deepEqual([1, 2, 3, 10, 100].map(backoffMs), [250, 500, 1_000, 10_000, 10_000]);
  });

  it('conflict rate is 0 without traffic', () => {
    assert.equal(rate(0, 0), 0);
    assert.equal(rate(1, 4), 0.25);
  });
});
