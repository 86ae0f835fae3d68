// The store's rule on a real package database: row = server view + pending mutations, whatever
// order pulls, edits, push answers and imports come in.
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPackageDatabase } from '@bible/package-format';
import type { MutationResult } from './api';
import { LocalStore } from './store';

const T = '2026-01-01T00:00:00.000Z';

function verseText(id: string, text: string, version: number) {
  return {
    id,
    verse_id: `v-${id}`,
    text_version_id: 'tv',
    verse_text: text,
    version,
    publish_status: 'published',
    created_at: T,
    created_by: null,
    updated_at: T,
    deleted_at: null,
  };
}

function packageStore(rows: ReturnType<typeof verseText>[]): LocalStore {
  const path = join(mkdtempSync(join(tmpdir(), 'client-store-')), 'store.sqlite');
  const db = createPackageDatabase(path);
  const insert = db.prepare(
    `INSERT INTO package_verse_texts VALUES (@id, @verse_id, @text_version_id, @verse_text, @version, @publish_status, @created_at, @created_by, @updated_at, @deleted_at)`,
  );
  for (const row of rows) insert.run(row);
  db.close();
  const store = LocalStore.open(path);
  store.set('scope', JSON.stringify({ textVersionId: 'tv' }));
  return store;
}

const text = (s: LocalStore, id: string) => s.row('verse_texts', id)?.verse_text;

describe('LocalStore', () => {
  let store: LocalStore;
  beforeEach(() => {
    store = packageStore([verseText('a', 'one', 1), verseText('b', 'two', 1)]);
  });

  it('applies an edit at once and queues it with the server version it was based on', () => {
    const m = store.edit({
      table: 'verse_texts',
      recordId: 'a',
      operation: 'UPDATE',
      data: { verse_text: 'mine' },
    });
    assert.equal(text(store, 'a'), 'mine');
    assert.equal(m.baseVersion, 1);
    assert.deepEqual(
      store.outbox('pending').map((e) => e.mutationId),
      [m.mutationId],
    );
  });

  it('a pulled change under a pending edit updates the server view and the edit stays on top', () => {
    store.edit({
      table: 'verse_texts',
      recordId: 'a',
      operation: 'UPDATE',
      data: { verse_text: 'mine' },
    });
    store.applyServerRow('verse_texts', 'a', { ...verseText('a', 'theirs', 2) }, 2);
    assert.equal(text(store, 'a'), 'mine');
    assert.equal(store.row('verse_texts', 'a')?.version, 2, 'other columns from the server');
  });

  it('a conflict restores the server record and is recorded; an applied answer replaces the view', () => {
    const lost = store.edit({
      table: 'verse_texts',
      recordId: 'a',
      operation: 'UPDATE',
      data: { verse_text: 'lost' },
    });
    const kept = store.edit({
      table: 'verse_texts',
      recordId: 'b',
      operation: 'UPDATE',
      data: { verse_text: 'kept' },
    });
    const conflict: MutationResult = {
      mutationId: lost.mutationId,
      result: 'conflict',
      conflictId: 'c1',
      serverRecord: verseText('a', 'server', 3),
    };
    const applied: MutationResult = {
      mutationId: kept.mutationId,
      result: 'applied',
      version: 2,
      serverRecord: verseText('b', 'kept', 2),
    };
    store.transaction(() => {
      store.recordResult(lost, conflict);
      store.recordResult(kept, applied);
    });
    assert.equal(text(store, 'a'), 'server');
    assert.equal(text(store, 'b'), 'kept');
    assert.equal(store.row('verse_texts', 'b')?.version, 2);
    assert.deepEqual(
      store.conflicts().map((c) => c.conflictId),
      ['c1'],
    );
    assert.equal(store.outbox('pending').length, 0);
    // An older change of b reaching the pull later does not roll it back.
    store.applyServerRow('verse_texts', 'b', verseText('b', 'older', 1), 1);
    assert.equal(text(store, 'b'), 'kept');
  });

  it('a retryable rejection stays pending', () => {
    const m = store.edit({ table: 'verse_texts', recordId: 'a', operation: 'DELETE' });
    assert.equal(store.row('verse_texts', 'a'), undefined);
    store.recordResult(m, {
      mutationId: m.mutationId,
      result: 'rejected',
      retryable: true,
      error: { code: 'WRITE_FAILED', message: 'later' },
    });
    assert.equal(store.outbox('pending').length, 1);
    assert.equal(store.row('verse_texts', 'a'), undefined);
  });

  it('rows the package would not carry (unpublished, deleted) leave the store', () => {
    store.applyServerRow(
      'verse_texts',
      'a',
      { ...verseText('a', 'x', 2), publish_status: 'draft' },
      2,
    );
    store.applyServerRow('verse_texts', 'b', { ...verseText('b', 'x', 2), deleted_at: T }, 2);
    store.applyServerRow(
      'verse_texts',
      'c',
      { ...verseText('c', 'new', 1), text_version_id: 'other' },
      1,
    );
    assert.equal(store.row('verse_texts', 'a'), undefined);
    assert.equal(store.row('verse_texts', 'b'), undefined);
    assert.equal(store.row('verse_texts', 'c'), undefined);
  });

  it('an imported newer package keeps the outbox and replays pending edits on its rows', () => {
    store.set('clientId', 'me');
    store.edit({
      table: 'verse_texts',
      recordId: 'a',
      operation: 'UPDATE',
      data: { verse_text: 'mine' },
    });
    const next = packageStore([verseText('a', 'newer', 5), verseText('b', 'two', 1)]);
    next.adopt(store);
    assert.equal(next.clientId(), 'me');
    assert.equal(text(next, 'a'), 'mine');
    assert.equal(next.row('verse_texts', 'a')?.version, 5);
    assert.equal(next.outbox('pending').length, 1);
  });
});
