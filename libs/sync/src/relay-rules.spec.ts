import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, eventDataSchemas } from '@bible/common';
import type { FeedRow } from './rows';
import { backoffMs, contentChangedEvents, invalidationTargets, lagSeconds } from './relay-rules';
import { rate } from './health';

function row(
  txid: number,
  id: number,
  scope: { audio?: string; text?: string } = {},
  extra: Partial<FeedRow> = {},
): FeedRow {
  return {
    txid: String(txid),
    id: String(id),
    table_name: scope.audio ? 'media_files' : 'verse_texts',
    operation: 'UPDATE',
    record_id: `r${id}`,
    book_id: null,
    ...extra,
    audio_version_id: scope.audio ?? null,
    text_version_id: scope.text ?? null,
    changed_at: new Date(1_000),
  };
}

describe('relay rules', () => {
  it('content.changed: one event per touched scope, with counts, books and the revision range', () => {
    const from = { txid: 8n, id: 100n };
    const rows = [
      row(9, 101, { text: 'tv1' }, { book_id: 'EXO' }),
      row(9, 102, { text: 'tv1' }, { book_id: 'GEN', operation: 'INSERT' }),
      row(9, 103, { audio: 'av1' }, { book_id: 'JHN', operation: 'DELETE' }),
      row(10, 1, { text: 'tv1' }, { book_id: 'EXO', operation: 'DELETE' }),
      row(10, 2, { text: 'tv1' }, { table_name: 'text_versions', record_id: 'tv1' }),
      row(11, 1, { audio: 'av1' }, { table_name: 'media_files_verses', operation: 'INSERT' }),
      row(11, 2),
    ];
    const events = contentChangedEvents(rows, from);
    assert.deepEqual(
      events.map((e) => ({
        ...e.data,
        fromRevision: decodeCursor(e.data.fromRevision),
        toRevision: decodeCursor(e.data.toRevision),
      })),
      [
        {
          scope: 'audio',
          versionId: 'av1',
          fromRevision: from,
          toRevision: { txid: 11n, id: 1n },
          counts: {
            media_files: { inserted: 0, updated: 0, deleted: 1 },
            media_files_verses: { inserted: 1, updated: 0, deleted: 0 },
          },
          bookIds: ['JHN'],
          changeCount: 2,
        },
        {
          scope: 'text',
          versionId: 'tv1',
          fromRevision: from,
          toRevision: { txid: 10n, id: 2n },
          counts: {
            verse_texts: { inserted: 1, updated: 1, deleted: 1 },
            text_versions: { inserted: 0, updated: 1, deleted: 0 },
          },
          bookIds: ['EXO', 'GEN'],
          changeCount: 4,
        },
      ],
    );
    for (const e of events) {
      assert.equal(e.type, 'content.changed');
      assert.equal(eventDataSchemas['content.changed'].safeParse(e.data).success, true);
    }
    assert.deepEqual(contentChangedEvents([row(12, 2)], from), [], 'no scope, no event');
  });

  it('a 10,000-change batch in one scope is one event', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) =>
      row(20, i + 1, { text: 'tv1' }, { book_id: i < 5_000 ? 'GEN' : 'EXO' }),
    );
    const events = contentChangedEvents(rows, { txid: 19n, id: 0n });
    assert.equal(events.length, 1);
    assert.equal(events[0].data.changeCount, 10_000);
    assert.deepEqual(events[0].data.counts, {
      verse_texts: { inserted: 0, updated: 10_000, deleted: 0 },
    });
    assert.deepEqual(events[0].data.bookIds, ['EXO', 'GEN']);
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
