// The events outbox against real Postgres: events written through a pg client and a TypeORM
// EntityManager commit (or roll back) with their transaction, keep their order, and the feed
// never passes an event whose transaction is still open (gap-free, like change_log).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { freshTestDataSource, requireTestDatabaseUrl } from '../database/testing';
import { decodeEventCursor, encodeEventCursor } from './cursor';
import { positionOfEvent, readEvents } from './feed';
import { recordEvent, recordEvents } from './record';
import type { NewEvent } from './types';

const conflict = (n: number): NewEvent => ({
  type: 'sync.conflict',
  userId: `u${n}`,
  data: {
    conflictId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    table: 'verse_texts',
    recordId: `r${n}`,
    userId: `u${n}`,
    deviceId: null,
    sessionId: null,
  },
});

describe('events outbox', () => {
  let ds: DataSource;
  let pool: Pool;

  before(async () => {
    ds = await freshTestDataSource();
    pool = new Pool({ connectionString: requireTestDatabaseUrl(), max: 4 });
  });

  after(async () => {
    await pool?.end();
    await ds?.destroy();
  });

  const feed = async (after: string | null = null, types?: NewEvent['type'][]) =>
    readEvents(pool, { after: after ? decodeEventCursor(after) : null, types, limit: 100 });

  it('commits with the transaction, in order, from a pg client or an EntityManager', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await recordEvents(client, [conflict(1), conflict(2), conflict(3)]);
      await client.query('ROLLBACK');
      assert.equal((await feed()).length, 0, 'a rolled-back fact has no event');
      await client.query('BEGIN');
      const ids = await recordEvents(client, [conflict(1), conflict(2), conflict(3)]);
      await client.query('COMMIT');
      assert.equal(ids.length, 3);
    } finally {
      client.release();
    }
    const viaOrm = await ds.transaction((tx) => recordEvent(tx, conflict(4)));
    const events = await feed();
    assert.deepEqual(
      events.map((e) => e.data.recordId),
      ['r1', 'r2', 'r3', 'r4'],
    );
    assert.equal(events[3].id, viaOrm);
    assert.equal(events[0].userId, 'u1');
    assert.equal(events[0].trace, null, 'no active trace: no carrier');
  });

  it('never passes an event of a transaction still open; it arrives in order after commit', async () => {
    const start = await feed();
    const cursor = encodeEventCursor(positionOfEvent(start[start.length - 1]));
    const slow = new Client({ connectionString: requireTestDatabaseUrl() });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await recordEvent(slow, conflict(10));
      // A later transaction commits first (higher txid).
      await recordEvent(pool, conflict(11));
      assert.deepEqual(await feed(cursor), [], 'held back behind the open transaction');
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    // Other databases' transactions on the cluster can hold the horizon back a little longer.
    let after = await feed(cursor);
    for (let i = 0; i < 300 && after.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await feed(cursor);
    }
    assert.deepEqual(
      after.map((e) => e.data.recordId),
      ['r10', 'r11'],
    );
    assert.deepEqual(await feed(encodeEventCursor(positionOfEvent(after[1]))), []);
  });

  it('filters by type and pages with a cursor', async () => {
    await recordEvents(pool, [
      {
        type: 'package.failed',
        data: {
          packageKey: 'k',
          jobId: 'j',
          requestIds: [],
          requestedBy: [],
          reason: 'x',
          errorCode: 'BUILD_ERROR',
          attempts: 1,
        },
      },
      conflict(20),
    ]);
    const failed = await feed(null, ['package.failed']);
    assert.deepEqual(
      failed.map((e) => e.type),
      ['package.failed'],
    );
    const all = await feed();
    const firstTwo = await readEvents(pool, { limit: 2 });
    const rest = await feed(encodeEventCursor(positionOfEvent(firstTwo[1])));
    assert.deepEqual(
      [...firstTwo, ...rest].map((e) => e.id),
      all.map((e) => e.id),
    );
  });
});
