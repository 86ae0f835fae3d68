import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEventCursor, encodeEventCursor } from './cursor';
import { toWebhookPayload } from './envelope';
import { eventDataSchemas } from './types';

describe('event cursor', () => {
  it('round-trips positions, including the largest bigint', () => {
    for (const position of [
      { txid: 0n, seq: 0n },
      { txid: 742n, seq: 12n },
      { txid: 2n ** 63n - 1n, seq: 2n ** 63n - 1n },
    ]) {
      const cursor = encodeEventCursor(position);
      assert.match(cursor, /^[A-Za-z0-9_-]+$/);
      assert.deepEqual(decodeEventCursor(cursor), position);
    }
  });

  it('rejects anything it did not mint', () => {
    const minted = (s: string) => Buffer.from(s).toString('base64url');
    for (const bad of [
      '',
      'not a cursor!',
      minted('e1:1'),
      minted('e1:-1:2'),
      minted('e1:1:2:3'),
      minted('c1:1:2'), // a sync cursor is not an event cursor
      minted(`e1:${2n ** 63n}:1`),
      minted(`e1:1:${'9'.repeat(20)}`),
      'A'.repeat(129),
    ]) {
      assert.equal(decodeEventCursor(bad), null, bad);
    }
  });
});

describe('webhook payload', () => {
  it('is the Standard Webhooks envelope with an ISO-8601 timestamp', () => {
    const createdAt = new Date('2026-12-01T23:40:00.123Z');
    const data = {
      conflictId: '6f1c1d5e-7f67-4d0a-9d2c-6d0f2b8d2a11',
      table: 'verse_texts',
      recordId: 'vt-1',
      userId: 'alice',
      deviceId: 'phone-1',
      sessionId: null,
    };
    const payload = toWebhookPayload({ type: 'sync.conflict', createdAt, data });
    assert.deepEqual(payload, {
      type: 'sync.conflict',
      timestamp: '2026-12-01T23:40:00.123Z',
      data,
    });
    assert.equal(eventDataSchemas['sync.conflict'].safeParse(payload.data).success, true);
  });

  it('accepts a timestamp string as stored rows come back from JSON', () => {
    const payload = toWebhookPayload({
      type: 'package.ready',
      createdAt: '2026-12-01T00:00:00Z' as unknown as Date,
      data: {},
    });
    assert.equal(payload.timestamp, '2026-12-01T00:00:00.000Z');
  });
});

describe('event data schemas', () => {
  it('accept a content.changed batch and refuse unknown tables', () => {
    const good = {
      scope: 'text',
      versionId: 'WEB',
      fromRevision: 'YzE6MTox',
      toRevision: 'YzE6Mjoy',
      counts: { verse_texts: { inserted: 0, updated: 10_000, deleted: 0 } },
      bookIds: ['GEN', 'EXO'],
      changeCount: 10_000,
    };
    assert.equal(eventDataSchemas['content.changed'].safeParse(good).success, true);
    const bad = { ...good, counts: { users: { inserted: 1, updated: 0, deleted: 0 } } };
    assert.equal(eventDataSchemas['content.changed'].safeParse(bad).success, false);
  });
});
