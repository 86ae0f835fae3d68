// Sync (issue #5) end to end through the gateway: pull, push, sessions, conflicts, admin views and
// the change-feed relay, with the gateway and sync-service running as processes against real
// Postgres and Redis. Each test seeds its own small fixture (no WEB seed needed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { type ContentChangedData, decodeCursor, encodeCursor, revisionOf } from '@bible/common';
import { eventually } from '@bible/testing';
import {
  type Api,
  type Change,
  type Mutation,
  type Page,
  type PushResponse,
  type SyncStack,
  at,
  pullAll,
  seedAudioVersion,
  seedTextVersion,
  serverRow,
  startSession,
  startSyncStack,
} from './sync-harness';

type Row = Record<string, unknown>;

interface Position {
  txid: string;
  id: string;
}

describe('sync through the gateway', { timeout: 10 * 60_000 }, () => {
  let stack: SyncStack;
  let editor: Api;
  let session: string;
  let seq = 0;
  const mid = (prefix = 'm') => `${prefix}-${++seq}`;

  before(async () => {
    stack = await startSyncStack();
    editor = await stack.api('editor-1', 'editor');
    session = await startSession(editor, 'phone-1');
  });

  after(async () => {
    await stack?.stop();
  });

  /** change_log positions of a scope (or record), oldest first. */
  async function positions(
    where: string,
    args: unknown[],
  ): Promise<(Position & { record_id: string })[]> {
    const { rows } = await stack.db.query<Position & { record_id: string }>(
      `SELECT c.txid::text, c.id::text, c.record_id FROM change_log c WHERE ${where} ORDER BY c.txid, c.id`,
      args,
    );
    return rows;
  }

  /** Pulls from `cursor` until `done(changes)` holds (a change may be held back by an open transaction elsewhere). */
  async function pullUntil(
    api: Api,
    scope: Record<string, string>,
    cursor: string | undefined,
    done: (c: Change[]) => boolean,
  ) {
    return eventually(
      async () => {
        const page = await pullAll(api, scope, cursor);
        return done(page.changes) ? page : undefined;
      },
      60_000,
      100,
    );
  }

  async function push(api: Api, mutations: Mutation[], clientId = 'client-1', sessionId = session) {
    const res = await api.post<PushResponse>('/v1/sync/push', { sessionId, clientId, mutations });
    assert.equal(res.status, 200, res.text);
    return res.body;
  }

  async function relayPosition(): Promise<Position> {
    const { rows } = await stack.db.query<Position>(
      `SELECT txid::text, change_id::text AS id FROM sync_relay_state WHERE name = 'change-events'`,
    );
    return rows[0];
  }

  /** The scope's content.changed events in feed order. */
  async function contentChanged(versionId: string): Promise<ContentChangedData[]> {
    const { rows } = await stack.db.query<{ data: ContentChangedData }>(
      `SELECT data FROM events WHERE type = 'content.changed' AND data->>'versionId' = $1 ORDER BY txid, seq`,
      [versionId],
    );
    return rows.map((r) => r.data);
  }

  /** A sync cursor as a position. */
  const positionAt = (cursor: string): Position => {
    const p = decodeCursor(cursor);
    assert.ok(p, `a sync cursor: ${cursor}`);
    return { txid: p.txid.toString(), id: p.id.toString() };
  };

  const before_ = (a: Position, b: Position) =>
    BigInt(a.txid) < BigInt(b.txid) || (a.txid === b.txid && BigInt(a.id) < BigInt(b.id));

  async function relayPassed(p: Position): Promise<boolean> {
    const r = await relayPosition();
    return !!r && !before_(r, p);
  }

  describe('pull: GET /v1/sync/changes', () => {
    it('delivers the scope’s changes in feed order with server versions; deletes are tombstones', async () => {
      await seedTextVersion(stack.db, 'tv-pull', 5);
      await seedTextVersion(stack.db, 'tv-pull-other', 3);
      await stack.db.query(`UPDATE verse_texts SET verse_text = 'edited' WHERE id = 'tv-pull-2'`);
      await stack.db.query(`UPDATE verse_texts SET deleted_at = now() WHERE id = 'tv-pull-3'`);
      await stack.db.query(`DELETE FROM verse_texts WHERE id = 'tv-pull-4'`);

      const { changes } = await pullUntil(
        editor,
        { textVersionId: 'tv-pull' },
        undefined,
        (c) => c.length >= 9,
      );
      assert.equal(
        changes.length,
        9,
        JSON.stringify(changes.map((c) => [c.recordId, c.operation])),
      );
      assert.ok(
        changes.every((c) => c.recordId === 'tv-pull' || c.recordId.startsWith('tv-pull-')),
      );
      assert.ok(
        !changes.some((c) => c.recordId.startsWith('tv-pull-other')),
        'other scopes are not delivered',
      );
      assert.deepEqual(changes[0], {
        ...changes[0],
        table: 'text_versions',
        recordId: 'tv-pull',
        operation: 'INSERT',
        version: 1,
      });

      const last = (id: string) => changes.filter((c) => c.recordId === id).at(-1) as Change;
      assert.equal(last('tv-pull-2').operation, 'UPDATE');
      assert.equal(last('tv-pull-2').version, 2);
      assert.equal(last('tv-pull-2').data?.verse_text, 'edited');
      assert.deepEqual(
        [last('tv-pull-3').operation, last('tv-pull-3').data, last('tv-pull-3').version],
        ['DELETE', null, 2],
      );
      assert.deepEqual(
        [last('tv-pull-4').operation, last('tv-pull-4').data, last('tv-pull-4').version],
        ['DELETE', null, 1],
      );
      assert.ok(
        changes.every(
          (c) => typeof c.changedAt === 'string' && !Number.isNaN(Date.parse(c.changedAt)),
        ),
      );

      const positionsInScope = await positions('text_version_id = $1', ['tv-pull']);
      assert.deepEqual(
        changes.map((c) => c.recordId),
        positionsInScope.map((p) => p.record_id),
        'feed order is (txid, id)',
      );
    });

    it('pages are stable: the same cursor gives the same page, pages concatenate to the whole feed', async () => {
      await seedTextVersion(stack.db, 'tv-page', 24);
      const whole = await pullUntil(
        editor,
        { textVersionId: 'tv-page' },
        undefined,
        (c) => c.length >= 25,
      );
      assert.equal(whole.changes.length, 25);

      const pages: Page[] = [];
      let cursor: string | undefined;
      const cursors: (string | undefined)[] = [];
      for (;;) {
        cursors.push(cursor);
        const q = new URLSearchParams({
          textVersionId: 'tv-page',
          limit: '10',
          ...(cursor && { cursor }),
        });
        const res = await editor.get<Page>(`/v1/sync/changes?${q.toString()}`);
        assert.equal(res.status, 200, res.text);
        pages.push(res.body);
        cursor = res.body.nextCursor;
        if (!res.body.hasMore) break;
      }
      assert.deepEqual(
        pages.map((p) => p.changes.length),
        [10, 10, 5],
      );
      assert.deepEqual(
        pages.map((p) => p.hasMore),
        [true, true, false],
      );
      assert.deepEqual(
        pages.flatMap((p) => p.changes),
        whole.changes,
      );

      // A new change lands after the end: re-reading the second page gives exactly the same page.
      await stack.db.query(`UPDATE verse_texts SET verse_text = 'later' WHERE id = 'tv-page-1'`);
      const again = await editor.get<Page>(
        `/v1/sync/changes?textVersionId=tv-page&limit=10&cursor=${cursors[1]}`,
      );
      assert.deepEqual(again.body, pages[1]);
      const tail = await pullUntil(
        editor,
        { textVersionId: 'tv-page' },
        cursor,
        (c) => c.length === 1,
      );
      assert.equal(tail.changes[0].data?.verse_text, 'later');
    });

    it('an audio scope delivers media files and timings; both scopes can be pulled together', async () => {
      await seedAudioVersion(stack.db, 'av-pull');
      await seedTextVersion(stack.db, 'tv-both', 2);
      const audio = await pullUntil(
        editor,
        { audioVersionId: 'av-pull' },
        undefined,
        (c) => c.length >= 5,
      );
      assert.deepEqual(
        audio.changes.map((c) => c.table),
        [
          'audio_versions',
          'media_files',
          'media_files_verses',
          'media_files_verses',
          'media_files_verses',
        ],
      );
      const both = await pullUntil(
        editor,
        { audioVersionId: 'av-pull', textVersionId: 'tv-both' },
        undefined,
        (c) => c.length >= 8,
      );
      assert.equal(both.changes.length, 8);
      const order = await positions(
        `audio_version_id = 'av-pull' OR text_version_id = 'tv-both'`,
        [],
      );
      assert.deepEqual(
        both.changes.map((c) => c.recordId),
        order.map((p) => p.record_id),
      );
    });

    it('a change held back by a long open transaction is delivered after it commits, never skipped', async () => {
      await seedTextVersion(stack.db, 'tv-gap', 2);
      const start = await pullUntil(
        editor,
        { textVersionId: 'tv-gap' },
        undefined,
        (c) => c.length >= 3,
      );

      const slow = new Client({ connectionString: stack.env.DATABASE_URL });
      await slow.connect();
      let slowTxid = '';
      try {
        await slow.query('BEGIN');
        await slow.query(`UPDATE verse_texts SET verse_text = 'slow' WHERE id = 'tv-gap-1'`);
        const { rows } = await slow.query<{ txid: string }>(
          `SELECT pg_current_xact_id()::text AS txid`,
        );
        slowTxid = rows[0].txid;

        // A later transaction commits first; its change_log id is higher than the open one's.
        await stack.db.query(`UPDATE verse_texts SET verse_text = 'fast' WHERE id = 'tv-gap-2'`);
        const [fast] = await positions(`record_id = 'tv-gap-2' AND operation = 'UPDATE'`, []);
        assert.ok(BigInt(fast.txid) > BigInt(slowTxid));

        // While the slow transaction is open, the fast change is held back (not delivered out of order).
        await new Promise((r) => setTimeout(r, 400));
        const during = await pullAll(editor, { textVersionId: 'tv-gap' }, start.cursor);
        assert.deepEqual(during.changes, [], 'nothing past the open transaction is delivered');
        assert.equal(
          during.cursor,
          start.cursor,
          'the cursor does not move past the open transaction',
        );
        assert.ok(
          (await contentChanged('tv-gap')).every((e) => before_(positionAt(e.toRevision), fast)),
          'the relay holds it back too',
        );

        await new Promise((r) => setTimeout(r, 600));
        await slow.query('COMMIT');
      } finally {
        await slow.end();
      }

      const after = await pullUntil(
        editor,
        { textVersionId: 'tv-gap' },
        start.cursor,
        (c) => c.length >= 2,
      );
      assert.deepEqual(
        after.changes.map((c) => [c.recordId, c.data?.verse_text]),
        [
          ['tv-gap-1', 'slow'],
          ['tv-gap-2', 'fast'],
        ],
        'the long transaction’s change is delivered, in transaction order',
      );

      // The relay reports both, each exactly once: the scope's content.changed events cover
      // consecutive, disjoint revision ranges whose counts add up to the scope's changes.
      const updates = await positions(`text_version_id = 'tv-gap' AND operation = 'UPDATE'`, []);
      await eventually(async () => relayPassed(updates[updates.length - 1]), 30_000, 100);
      const events = await contentChanged('tv-gap');
      const changes = await positions(`text_version_id = 'tv-gap'`, []);
      assert.equal(
        events.reduce((n, e) => n + e.changeCount, 0),
        changes.length,
        'every change counted once',
      );
      const slowChange = changes.find((c) => c.record_id === 'tv-gap-1' && c.txid === slowTxid);
      assert.ok(slowChange, 'the slow transaction’s change is logged');
      for (const [i, e] of events.entries()) {
        assert.ok(before_(positionAt(e.fromRevision), positionAt(e.toRevision)));
        if (i > 0)
          assert.ok(!before_(positionAt(e.fromRevision), positionAt(events[i - 1].toRevision)));
      }
      const covering = (p: Position) =>
        events.filter(
          (e) => before_(positionAt(e.fromRevision), p) && !before_(positionAt(e.toRevision), p),
        );
      for (const p of updates)
        assert.equal(covering(p).length, 1, `${p.txid}:${p.id} reported once`);
    });

    it('answers 409 SYNC_CURSOR_INVALID for malformed, foreign and future cursors', async () => {
      const bad = [
        'not-a-cursor!',
        Buffer.from('c2:1:1').toString('base64url'),
        Buffer.from('hello').toString('base64url'),
        encodeCursor({ txid: 2n ** 50n, id: 1n }),
        encodeCursor({ txid: 1n, id: 2n ** 50n }),
      ];
      for (const cursor of bad) {
        const res = await editor.get<{ error: string; details: { field: string }[] }>(
          `/v1/sync/changes?textVersionId=tv1&cursor=${encodeURIComponent(cursor)}`,
        );
        assert.equal(res.status, 409, `${cursor}: ${res.text}`);
        assert.equal(res.body.error, 'SYNC_CURSOR_INVALID');
        assert.equal(res.body.details[0].field, 'query.cursor');
      }
    });

    it('expires cursors below a scope’s retention horizon (409) while newer ones keep working', async () => {
      await seedTextVersion(stack.db, 'tv-old', 2);
      await stack.db.query(`UPDATE verse_texts SET verse_text = 'recent' WHERE id = 'tv-old-1'`);
      const rows = await positions(`text_version_id = 'tv-old'`, []);
      assert.equal(rows.length, 4);
      const old = rows.slice(0, 3);
      await stack.db.query(
        `UPDATE change_log SET changed_at = now() - interval '100 days' WHERE id = ANY($1::bigint[])`,
        [old.map((r) => r.id)],
      );
      // sync-service compacts relayed rows older than 90 days, keeping the scope's newest row.
      const horizon = await eventually(
        async () => {
          const h = await stack.db.query<Position>(
            `SELECT txid::text, change_id::text AS id FROM change_log_horizons
            WHERE scope_column = 'text_version_id' AND scope_id = 'tv-old'`,
          );
          return h.rows[0];
        },
        60_000,
        200,
      );
      assert.deepEqual(horizon, { txid: old[2].txid, id: old[2].id });
      assert.equal(
        (await positions(`text_version_id = 'tv-old'`, [])).length,
        1,
        'only the newest row is kept',
      );

      const expired = encodeCursor({ txid: BigInt(old[0].txid), id: BigInt(old[0].id) });
      for (const cursor of [expired, undefined]) {
        const q = new URLSearchParams({ textVersionId: 'tv-old', ...(cursor && { cursor }) });
        const res = await editor.get<{ error: string; message: string }>(
          `/v1/sync/changes?${q.toString()}`,
        );
        assert.equal(res.status, 409, res.text);
        assert.equal(res.body.error, 'SYNC_CURSOR_INVALID');
        assert.match(res.body.message, /resync/);
      }
      const atHorizon = await pullAll(
        editor,
        { textVersionId: 'tv-old' },
        encodeCursor({ txid: BigInt(horizon.txid), id: BigInt(horizon.id) }),
      );
      assert.deepEqual(
        atHorizon.changes.map((c) => c.data?.verse_text),
        ['recent'],
      );
      // Other scopes are unaffected.
      assert.equal((await editor.get(`/v1/sync/changes?textVersionId=tv-pull`)).status, 200);
    });

    it('validates input (400 with field details) and hides unknown or unpublished versions (404)', async () => {
      const res = await editor.get<{ error: string; details: { field: string }[] }>(
        '/v1/sync/changes?limit=0&bogus=1',
      );
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'VALIDATION_FAILED');
      const fields = res.body.details.map((d) => d.field);
      for (const f of ['query.limit', 'query.textVersionId', 'query.audioVersionId'])
        assert.ok(fields.includes(f), fields.join());
      assert.equal((await editor.get('/v1/sync/changes?textVersionId=nope')).status, 404);

      await seedTextVersion(stack.db, 'tv-draft', 1, 'draft');
      const user = await stack.api('reader-1', 'user');
      assert.equal(
        (await user.get('/v1/sync/changes?textVersionId=tv-draft')).status,
        404,
        'users only see published versions',
      );
      assert.equal((await user.get('/v1/sync/changes?textVersionId=tv-pull')).status, 200);
      assert.equal(
        (await editor.get('/v1/sync/changes?textVersionId=tv-draft')).status,
        200,
        'editors see drafts',
      );
      assert.equal(
        (await stack.anonymous.get('/v1/sync/changes?textVersionId=tv-pull')).status,
        401,
      );
    });
  });

  describe('push: POST /v1/sync/push', () => {
    it('applies, merges, decides LWW, records conflicts, rejects server-newer and ignores timings, one request, independently', async () => {
      await seedTextVersion(stack.db, 'tv-push', 8);
      const { timings } = await seedAudioVersion(stack.db, 'av-push');
      // Server-side edits the clients have not seen (each bumps the record to version 2).
      await stack.db.query(
        `UPDATE verse_texts SET publish_status = 'draft' WHERE id = 'tv-push-2'`,
      );
      await stack.db.query(`UPDATE verse_texts SET verse_text = 'server 3' WHERE id = 'tv-push-3'`);
      await stack.db.query(`UPDATE verse_texts SET verse_text = 'server 4' WHERE id = 'tv-push-4'`);
      await stack.db.query(`UPDATE verse_texts SET verse_text = 'server 5' WHERE id = 'tv-push-5'`);
      const serverTime5 = Date.parse(
        (await serverRow(stack.db, 'verse_texts', 'tv-push-5'))?.updated_at as string,
      );
      await new Promise((r) => setTimeout(r, 1_100)); // so a client change made "now" is clearly later

      const ids = Object.fromEntries(
        ['apply', 'merge', 'lww', 'older', 'conflict', 'timing', 'missing', 'fk'].map((k) => [
          k,
          mid(k),
        ]),
      );
      const mutations: Mutation[] = [
        {
          mutationId: ids.apply,
          table: 'verse_texts',
          recordId: 'tv-push-1',
          operation: 'UPDATE',
          data: { verse_text: 'client 1' },
          baseVersion: 1,
          clientUpdatedAt: at(),
        },
        {
          mutationId: ids.merge,
          table: 'verse_texts',
          recordId: 'tv-push-2',
          operation: 'UPDATE',
          data: { verse_text: 'client 2' },
          baseVersion: 1,
          clientUpdatedAt: at(-60_000),
        },
        {
          mutationId: ids.lww,
          table: 'verse_texts',
          recordId: 'tv-push-3',
          operation: 'UPDATE',
          data: { verse_text: 'client 3' },
          baseVersion: 1,
          clientUpdatedAt: at(),
        },
        {
          mutationId: ids.older,
          table: 'verse_texts',
          recordId: 'tv-push-4',
          operation: 'UPDATE',
          data: { verse_text: 'client 4' },
          baseVersion: 1,
          clientUpdatedAt: at(-60_000),
        },
        {
          mutationId: ids.conflict,
          table: 'verse_texts',
          recordId: 'tv-push-5',
          operation: 'UPDATE',
          data: { verse_text: 'client 5' },
          baseVersion: 1,
          clientUpdatedAt: new Date(serverTime5 + 300).toISOString(),
        },
        {
          mutationId: ids.timing,
          table: 'media_files_verses',
          recordId: timings[0],
          operation: 'UPDATE',
          data: { start_time_seconds: 1.5 },
          baseVersion: 1,
          clientUpdatedAt: at(),
        },
        {
          mutationId: ids.missing,
          table: 'verse_texts',
          recordId: 'tv-push-nope',
          operation: 'UPDATE',
          data: { verse_text: 'x' },
          baseVersion: 1,
          clientUpdatedAt: at(),
        },
        {
          mutationId: ids.fk,
          table: 'verse_texts',
          recordId: 'tv-push-new',
          operation: 'INSERT',
          data: { verse_id: 'fx-missing', text_version_id: 'tv-push', verse_text: 'new verse' },
          clientUpdatedAt: at(),
        },
      ];
      const first = await push(editor, mutations);
      const r = Object.fromEntries(first.results.map((x) => [x.mutationId, x]));
      assert.deepEqual(
        first.results.map((x) => x.mutationId),
        mutations.map((m) => m.mutationId),
        'results in request order',
      );

      assert.equal(r[ids.apply].result, 'applied');
      assert.equal(r[ids.apply].version, 2);
      assert.equal(r[ids.apply].serverRecord?.verse_text, 'client 1');

      assert.equal(r[ids.merge].result, 'applied');
      assert.deepEqual(r[ids.merge].merged, ['verse_text']);
      assert.deepEqual(
        [r[ids.merge].serverRecord?.verse_text, r[ids.merge].serverRecord?.publish_status],
        ['client 2', 'draft'],
      );

      assert.equal(r[ids.lww].result, 'applied', 'the later client change wins the field');
      assert.equal(r[ids.lww].serverRecord?.verse_text, 'client 3');

      assert.equal(r[ids.older].result, 'rejected', 'the later server change wins');
      assert.equal(r[ids.older].error?.code, 'SERVER_NEWER');
      assert.equal(r[ids.older].serverRecord?.verse_text, 'server 4');
      assert.equal(r[ids.older].version, 2);

      assert.equal(r[ids.conflict].result, 'conflict');
      assert.ok(r[ids.conflict].conflictId);
      assert.equal(r[ids.conflict].serverRecord?.verse_text, 'server 5');

      assert.equal(r[ids.timing].result, 'ignored');
      assert.equal(r[ids.missing].result, 'rejected');
      assert.equal(r[ids.missing].error?.code, 'NOT_FOUND');
      assert.equal(r[ids.fk].result, 'rejected');
      assert.equal(r[ids.fk].retryable, true);
      assert.equal(r[ids.fk].error?.code, 'WRITE_FAILED');

      // The database agrees, and client writes are attributed in change_log.
      assert.equal((await serverRow(stack.db, 'verse_texts', 'tv-push-1'))?.verse_text, 'client 1');
      assert.equal((await serverRow(stack.db, 'verse_texts', 'tv-push-4'))?.verse_text, 'server 4');
      assert.equal((await serverRow(stack.db, 'verse_texts', 'tv-push-5'))?.verse_text, 'server 5');
      assert.equal(
        (await serverRow(stack.db, 'media_files_verses', timings[0]))?.start_time_seconds,
        0,
      );
      assert.equal(await serverRow(stack.db, 'verse_texts', 'tv-push-new'), null);
      const log = await stack.db.query<{ changed_by: string; change_source: string }>(
        `SELECT changed_by, change_source FROM change_log WHERE record_id = 'tv-push-1' ORDER BY id DESC LIMIT 1`,
      );
      assert.deepEqual(log.rows[0], { changed_by: 'editor-1', change_source: 'client_sync' });
      const queue = await stack.db.query<{
        mutation_id: string;
        status: string;
        error: string | null;
      }>(
        `SELECT mutation_id, status, error FROM sync_queue WHERE client_id = 'client-1' AND mutation_id = ANY($1)`,
        [Object.values(ids)],
      );
      const status = Object.fromEntries(queue.rows.map((q) => [q.mutation_id, q.status]));
      assert.deepEqual(status, {
        [ids.apply]: 'applied',
        [ids.merge]: 'applied',
        [ids.lww]: 'applied',
        [ids.older]: 'rejected',
        [ids.conflict]: 'conflict',
        [ids.timing]: 'ignored',
        [ids.missing]: 'rejected',
        [ids.fk]: 'failed',
      });
      assert.match(
        queue.rows.find((q) => q.mutation_id === ids.fk)?.error ?? '',
        /fk_verse_texts_verse_id/,
      );
      const conflict = await stack.db.query<{
        user_id: string;
        client_data: Row;
        server_data: Row;
      }>(`SELECT user_id, client_data, server_data FROM sync_conflicts WHERE id = $1`, [
        r[ids.conflict].conflictId,
      ]);
      assert.equal(conflict.rows[0].user_id, 'editor-1');
      assert.equal(conflict.rows[0].client_data.verse_text, 'client 5');
      assert.equal(conflict.rows[0].server_data.verse_text, 'server 5');

      // Replay: identical results for everything final, nothing written again; the failed one is retried.
      const logCount = async () =>
        (
          await stack.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM change_log WHERE record_id LIKE 'tv-push-%'`,
          )
        ).rows[0].n;
      const countBefore = await logCount();
      await stack.db.query(
        `INSERT INTO verses (id, chapter_id, verse_number) VALUES ('fx-missing', 'fx-chapter', 999)`,
      );
      const replay = await push(editor, mutations);
      for (const [i, result] of replay.results.entries()) {
        if (result.mutationId === ids.fk) continue;
        assert.deepEqual(result, first.results[i], `replay of ${result.mutationId}`);
      }
      const retried = replay.results.find((x) => x.mutationId === ids.fk);
      assert.equal(retried?.result, 'applied', 'a failed mutation can be retried');
      assert.equal(await logCount(), countBefore + 1, 'only the retried mutation wrote');
      const third = await push(editor, mutations);
      assert.deepEqual(third.results, replay.results, 'replays change nothing');
      assert.equal(await logCount(), countBefore + 1);
      const attempts = await stack.db.query<{ attempts: number }>(
        `SELECT attempts FROM sync_queue WHERE client_id = 'client-1' AND mutation_id = $1`,
        [ids.fk],
      );
      assert.equal(attempts.rows[0].attempts, 2);
    });

    it('applies one client’s mutations in order (a second edit builds on the first, no self-conflict)', async () => {
      await seedTextVersion(stack.db, 'tv-order', 1);
      const res = await push(editor, [
        {
          mutationId: mid(),
          table: 'verse_texts',
          recordId: 'tv-order-1',
          operation: 'UPDATE',
          data: { verse_text: 'first' },
          baseVersion: 1,
          clientUpdatedAt: at(-2_000),
        },
        {
          mutationId: mid(),
          table: 'verse_texts',
          recordId: 'tv-order-1',
          operation: 'UPDATE',
          data: { verse_text: 'second' },
          baseVersion: 1,
          clientUpdatedAt: at(-1_000),
        },
        {
          mutationId: mid(),
          table: 'verse_texts',
          recordId: 'tv-order-1',
          operation: 'DELETE',
          baseVersion: 1,
          clientUpdatedAt: at(-500),
        },
      ]);
      assert.deepEqual(
        res.results.map((x) => [x.result, x.version]),
        [
          ['applied', 2],
          ['applied', 3],
          ['applied', 4],
        ],
      );
      const row = await serverRow(stack.db, 'verse_texts', 'tv-order-1');
      assert.equal(row?.verse_text, 'second');
      assert.ok(row?.deleted_at);
    });

    it('a mutationId repeated within one push is applied once; the repeat gets the first result', async () => {
      await seedTextVersion(stack.db, 'tv-repeat', 1);
      const id = mid();
      const edit = (text: string) => ({
        mutationId: id,
        table: 'verse_texts',
        recordId: 'tv-repeat-1',
        operation: 'UPDATE' as const,
        data: { verse_text: text },
        baseVersion: 1,
        clientUpdatedAt: at(-1_000),
      });
      const res = await push(editor, [edit('first'), edit('second'), edit('first')]);
      assert.deepEqual(
        res.results.map((x) => [x.mutationId, x.result, x.version]),
        [
          [id, 'applied', 2],
          [id, 'applied', 2],
          [id, 'applied', 2],
        ],
      );
      const row = await serverRow(stack.db, 'verse_texts', 'tv-repeat-1');
      assert.equal(row?.verse_text, 'first');
      assert.equal(row?.version, 2, 'applied once');
    });

    it('read-your-writes: the next pull never reverts the client’s own edit', async () => {
      await seedTextVersion(stack.db, 'tv-ryw', 1);
      const start = await pullUntil(
        editor,
        { textVersionId: 'tv-ryw' },
        undefined,
        (c) => c.length >= 2,
      );
      // Another writer changes the record (version 2) after the client's last pull ...
      await stack.db.query(`UPDATE verse_texts SET publish_status = 'draft' WHERE id = 'tv-ryw-1'`);
      // ... and the client pushes its offline edit based on version 1.
      const res = await push(editor, [
        {
          mutationId: mid(),
          table: 'verse_texts',
          recordId: 'tv-ryw-1',
          operation: 'UPDATE',
          data: { verse_text: 'mine' },
          baseVersion: 1,
          clientUpdatedAt: at(-5_000),
        },
      ]);
      const mine = res.results[0];
      assert.equal(mine.result, 'applied');
      assert.equal(mine.version, 3);

      // Pulling from its old cursor in small pages returns the other writer's version 2 first. The
      // client applies a change only if its version is newer than what it knows (3, from the push
      // result), so no page ever reverts the edit; the feed then delivers the edit itself.
      let known = {
        version: mine.version as number,
        row: mine.serverRecord as Record<string, unknown>,
      };
      const seen: number[] = [];
      await eventually(
        async () => {
          let cursor = start.cursor;
          seen.length = 0;
          for (;;) {
            const page = await editor.get<Page>(
              `/v1/sync/changes?textVersionId=tv-ryw&limit=1&cursor=${cursor}`,
            );
            for (const change of page.body.changes) {
              seen.push(change.version as number);
              if ((change.version as number) > known.version)
                known = {
                  version: change.version as number,
                  row: change.data as Record<string, unknown>,
                };
              assert.equal(known.row.verse_text, 'mine', 'the local edit is never reverted');
            }
            cursor = page.body.nextCursor;
            if (!page.body.hasMore) break;
          }
          return seen.includes(3);
        },
        30_000,
        100,
      );
      assert.deepEqual(seen, [2, 3]);
      assert.deepEqual(known.row, await serverRow(stack.db, 'verse_texts', 'tv-ryw-1'));

      // The push's cursor is the position after the write: nothing older comes after it.
      const afterWrite = await pullAll(editor, { textVersionId: 'tv-ryw' }, res.cursor);
      assert.deepEqual(afterWrite.changes, []);
    });

    it('authorises writes: plain users cannot change content; users never touch another user’s queue, session or conflicts', async () => {
      await seedTextVersion(stack.db, 'tv-auth', 2);
      const user = await stack.api('reader-2', 'user');
      const userSession = await startSession(user, 'tablet');
      const denied = await push(
        user,
        [
          {
            mutationId: 'u-1',
            table: 'verse_texts',
            recordId: 'tv-auth-1',
            operation: 'UPDATE',
            data: { verse_text: 'vandal' },
            baseVersion: 1,
            clientUpdatedAt: at(),
          },
        ],
        'user-client',
        userSession,
      );
      assert.equal(denied.results[0].result, 'rejected');
      assert.equal(denied.results[0].error?.code, 'FORBIDDEN');
      assert.equal((await serverRow(stack.db, 'verse_texts', 'tv-auth-1'))?.verse_text, 'text 1');

      const column = await push(editor, [
        {
          mutationId: mid(),
          table: 'verse_texts',
          recordId: 'tv-auth-1',
          operation: 'UPDATE',
          data: { text_version_id: 'tv1' },
          baseVersion: 1,
          clientUpdatedAt: at(),
        },
      ]);
      assert.equal(column.results[0].error?.code, 'COLUMN_NOT_WRITABLE');

      // Someone else's session, clientId/mutationId and conflicts.
      const other = await stack.api('editor-2', 'editor');
      const otherSession = await startSession(other, 'laptop');
      const foreignSession = await other.post('/v1/sync/push', {
        sessionId: session,
        clientId: 'client-x',
        mutations: [
          {
            mutationId: 'x',
            table: 'verse_texts',
            recordId: 'tv-auth-2',
            operation: 'DELETE',
            baseVersion: 1,
            clientUpdatedAt: at(),
          },
        ],
      });
      assert.equal(foreignSession.status, 404);
      const stolen = await push(
        other,
        [
          {
            mutationId: 'u-1',
            table: 'verse_texts',
            recordId: 'tv-auth-2',
            operation: 'DELETE',
            baseVersion: 1,
            clientUpdatedAt: at(),
          },
        ],
        'user-client',
        otherSession,
      );
      assert.equal(stolen.results[0].result, 'rejected');
      assert.equal(stolen.results[0].error?.code, 'MUTATION_ID_TAKEN');
      assert.equal(
        stolen.results[0].serverRecord,
        undefined,
        'nothing of the other user’s result leaks',
      );
      assert.equal((await serverRow(stack.db, 'verse_texts', 'tv-auth-2'))?.deleted_at, null);

      const mine = await editor.get<{ items: { conflictId: string }[] }>(
        '/v1/sync/conflicts?status=all',
      );
      assert.ok(mine.body.items.length > 0);
      const theirs = await other.get<{ items: unknown[] }>('/v1/sync/conflicts?status=all');
      assert.deepEqual(theirs.body.items, []);
      const resolveOthers = await other.post(
        `/v1/sync/conflicts/${mine.body.items[0].conflictId}/resolve`,
        { resolution: 'server_wins' },
      );
      assert.equal(resolveOthers.status, 404);
      assert.equal((await other.get(`/v1/sync/sessions/${session}`)).status, 404);
      assert.equal((await stack.anonymous.post('/v1/sync/push', {})).status, 401);
    });

    it('rejects malformed pushes with field-level details', async () => {
      const res = await editor.post<{ error: string; details: { field: string }[] }>(
        '/v1/sync/push',
        {
          sessionId: 'nope',
          clientId: 'c',
          mutations: [
            {
              mutationId: 'a',
              table: 'verse_texts',
              recordId: 'x',
              operation: 'UPSERT',
              clientUpdatedAt: 'yesterday',
            },
            {
              mutationId: 'a',
              table: 'verse_texts',
              recordId: 'x',
              operation: 'UPDATE',
              clientUpdatedAt: at(),
            },
          ],
        },
      );
      assert.equal(res.status, 400);
      const fields = res.body.details.map((d) => d.field);
      for (const f of [
        'body.sessionId',
        'body.mutations.0.operation',
        'body.mutations.0.clientUpdatedAt',
        'body.mutations.1.data',
      ]) {
        assert.ok(fields.includes(f), `${f} in ${fields.join(', ')}`);
      }
      const duplicate = {
        mutationId: 'a',
        table: 'verse_texts',
        recordId: 'x',
        operation: 'DELETE',
        clientUpdatedAt: at(),
      };
      const tooMany = await editor.post<{ details: { field: string }[] }>('/v1/sync/push', {
        sessionId: session,
        clientId: 'c',
        mutations: Array.from({ length: 501 }, (_, i) => ({ ...duplicate, mutationId: `n${i}` })),
      });
      assert.equal(tooMany.status, 400);
      assert.equal(tooMany.body.details[0].field, 'body.mutations');
    });
  });

  describe('conflicts', () => {
    async function makeConflict(id: string): Promise<string> {
      await seedTextVersion(stack.db, id, 1);
      await stack.db.query(`UPDATE verse_texts SET verse_text = 'server' WHERE id = $1`, [
        `${id}-1`,
      ]);
      const row = await serverRow(stack.db, 'verse_texts', `${id}-1`);
      const res = await push(editor, [
        {
          mutationId: mid(),
          table: 'verse_texts',
          recordId: `${id}-1`,
          operation: 'UPDATE',
          data: { verse_text: 'client' },
          baseVersion: 1,
          clientUpdatedAt: new Date(Date.parse(row?.updated_at as string) + 200).toISOString(),
        },
      ]);
      assert.equal(res.results[0].result, 'conflict');
      return res.results[0].conflictId as string;
    }

    it('lists own open conflicts and resolves them: client_wins, server_wins, merged', async () => {
      const a = await makeConflict('tv-ca');
      const b = await makeConflict('tv-cb');
      const c = await makeConflict('tv-cc');
      const open = await editor.get<{
        items: {
          conflictId: string;
          clientData: { verse_text: string };
          serverData: { verse_text: string };
          resolution: null;
        }[];
      }>('/v1/sync/conflicts?limit=2');
      assert.equal(open.status, 200);
      assert.equal(open.body.items.length, 2);
      assert.equal(open.body.items[0].conflictId, c, 'newest first');

      const clientWins = await editor.post<{
        conflict: { resolution: string };
        serverRecord: { verse_text: string };
      }>(`/v1/sync/conflicts/${a}/resolve`, { resolution: 'client_wins' });
      assert.equal(clientWins.status, 200, clientWins.text);
      assert.equal(clientWins.body.conflict.resolution, 'client_wins');
      assert.equal((await serverRow(stack.db, 'verse_texts', 'tv-ca-1'))?.verse_text, 'client');
      const src = await stack.db.query<{ change_source: string }>(
        `SELECT change_source FROM change_log WHERE record_id = 'tv-ca-1' ORDER BY id DESC LIMIT 1`,
      );
      assert.equal(src.rows[0].change_source, 'conflict_resolution');

      assert.equal(
        (await editor.post(`/v1/sync/conflicts/${b}/resolve`, { resolution: 'server_wins' }))
          .status,
        200,
      );
      assert.equal((await serverRow(stack.db, 'verse_texts', 'tv-cb-1'))?.verse_text, 'server');

      const missingData = await editor.post<{ details: { field: string }[] }>(
        `/v1/sync/conflicts/${c}/resolve`,
        { resolution: 'merged' },
      );
      assert.equal(missingData.status, 400);
      assert.equal(missingData.body.details[0].field, 'body.data');
      const merged = await editor.post(`/v1/sync/conflicts/${c}/resolve`, {
        resolution: 'merged',
        data: { verse_text: 'both' },
      });
      assert.equal(merged.status, 200);
      assert.equal((await serverRow(stack.db, 'verse_texts', 'tv-cc-1'))?.verse_text, 'both');

      assert.equal(
        (await editor.post(`/v1/sync/conflicts/${a}/resolve`, { resolution: 'server_wins' }))
          .status,
        409,
        'resolved once',
      );
      const resolved = await editor.get<{ items: { conflictId: string }[] }>(
        '/v1/sync/conflicts?status=resolved&limit=200',
      );
      assert.ok([a, b, c].every((id) => resolved.body.items.some((i) => i.conflictId === id)));
      const stillOpen = await editor.get<{ items: { conflictId: string }[] }>(
        '/v1/sync/conflicts?limit=200',
      );
      assert.ok(![a, b, c].some((id) => stillOpen.body.items.some((i) => i.conflictId === id)));
    });
  });

  describe('sessions, analytics, health and metrics', () => {
    it('counts a session’s work and closes it', async () => {
      await seedTextVersion(stack.db, 'tv-sess', 3);
      const s = await startSession(editor, 'phone-2');
      await pullUntil(editor, { textVersionId: 'tv-sess' }, undefined, (c) => c.length >= 4);
      const page = await editor.get<Page>(`/v1/sync/changes?textVersionId=tv-sess&sessionId=${s}`);
      assert.equal(page.body.changes.length, 4);
      await push(
        editor,
        [
          {
            mutationId: mid(),
            table: 'verse_texts',
            recordId: 'tv-sess-1',
            operation: 'UPDATE',
            data: { verse_text: 'x' },
            baseVersion: 1,
            clientUpdatedAt: at(),
          },
          {
            mutationId: mid(),
            table: 'verse_texts',
            recordId: 'tv-sess-2',
            operation: 'UPDATE',
            data: { verse_text: 'y' },
            baseVersion: 1,
            clientUpdatedAt: at(),
          },
        ],
        'client-sess',
        s,
      );
      const done = await editor.post<{
        status: string;
        changesDownloaded: number;
        changesUploaded: number;
        completedAt: string;
      }>(`/v1/sync/sessions/${s}/complete`, { status: 'completed' });
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(
        [done.body.status, done.body.changesDownloaded, done.body.changesUploaded],
        ['completed', 4, 2],
      );
      assert.ok(done.body.completedAt);
      assert.equal(
        (await editor.post(`/v1/sync/sessions/${s}/complete`, { status: 'completed' })).status,
        200,
        'idempotent',
      );
      assert.equal(
        (await editor.post(`/v1/sync/sessions/${s}/complete`, { status: 'failed' })).status,
        409,
      );
      const closed = await editor.post('/v1/sync/push', {
        sessionId: s,
        clientId: 'client-sess',
        mutations: [
          {
            mutationId: mid(),
            table: 'verse_texts',
            recordId: 'tv-sess-3',
            operation: 'DELETE',
            baseVersion: 1,
            clientUpdatedAt: at(),
          },
        ],
      });
      assert.equal(closed.status, 409);
      const failed = await startSession(editor, 'phone-3');
      assert.equal(
        (
          await editor.post(`/v1/sync/sessions/${failed}/complete`, {
            status: 'failed',
            error: 'network',
          })
        ).status,
        200,
      );
    });

    it('admin analytics and health are admin-only and report the figures', async () => {
      const admin = await stack.api('admin-1', 'admin');
      for (const path of ['/v1/admin/sync/analytics', '/v1/admin/sync/health']) {
        assert.equal((await stack.anonymous.get(path)).status, 401);
        assert.equal((await (await stack.api('reader-1', 'user')).get(path)).status, 403);
        assert.equal((await editor.get(path)).status, 403);
      }
      // One mutation left failed (a FK violation never retried).
      await seedTextVersion(stack.db, 'tv-health', 1);
      const failed = await push(editor, [
        {
          mutationId: mid(),
          table: 'verse_texts',
          recordId: 'tv-health-x',
          operation: 'INSERT',
          data: { verse_id: 'fx-nope', text_version_id: 'tv-health', verse_text: 'x' },
          clientUpdatedAt: at(),
        },
      ]);
      assert.equal(failed.results[0].retryable, true);

      const analytics = await admin.get<{
        items: {
          date: string;
          totalSyncs: number;
          successfulSyncs: number;
          failedSyncs: number;
          averageChanges: number;
          averageDurationSeconds: number | null;
        }[];
      }>('/v1/admin/sync/analytics?days=7');
      assert.equal(analytics.status, 200, analytics.text);
      const today = analytics.body.items[0];
      assert.equal(today.date, new Date().toISOString().slice(0, 10));
      assert.ok(today.totalSyncs >= 4);
      assert.ok(today.successfulSyncs >= 1 && today.failedSyncs >= 1);
      assert.ok(today.averageChanges > 0);
      assert.ok(today.averageDurationSeconds !== null && today.averageDurationSeconds >= 0);

      const health = await admin.get<{
        pending: number;
        failed: number;
        conflictRate: number;
        oldestPendingSeconds: number | null;
        alerts: { pendingHigh: boolean; failedHigh: boolean };
        relay: { lagSeconds: number };
      }>('/v1/admin/sync/health');
      assert.equal(health.status, 200, health.text);
      assert.equal(health.body.pending, 0);
      assert.ok(health.body.failed >= 1);
      assert.ok(health.body.conflictRate > 0 && health.body.conflictRate < 1);
      assert.equal(health.body.oldestPendingSeconds, null);
      assert.deepEqual(health.body.alerts, { pendingHigh: false, failedHigh: false });
      assert.equal(typeof health.body.relay.lagSeconds, 'number');
      assert.equal((await admin.get('/v1/admin/sync/analytics?days=0')).status, 400);
    });

    it('exports Prometheus metrics from both services', async () => {
      const gatewayMetrics = await (await fetch(`${stack.gateway.url}/metrics`)).text();
      assert.match(
        gatewayMetrics,
        /^bible_sync_push_mutations_total\{result="applied",service="api-gateway"\} [1-9]/m,
      );
      assert.match(
        gatewayMetrics,
        /^bible_sync_push_mutations_total\{result="conflict",service="api-gateway"\} [1-9]/m,
      );
      await eventually(
        async () => {
          const text = await (await fetch(`${stack.sync.url}/metrics`)).text();
          assert.match(text, /^bible_sync_failed_mutations\{service="sync-service"\} [1-9]/m);
          assert.match(text, /^bible_sync_pending_mutations\{service="sync-service"\} 0$/m);
          assert.match(text, /^bible_sync_oldest_pending_seconds\{service="sync-service"\} 0$/m);
          assert.match(text, /^bible_sync_conflict_rate\{service="sync-service"\} 0\.\d+/m);
          assert.match(text, /^bible_sync_relay_lag_seconds\{service="sync-service"\} [\d.e-]+$/m);
          assert.match(text, /^bible_sync_relay_changes_total\{service="sync-service"\} [1-9]/m);
          assert.match(text, /^bible_sync_feed_lag_seconds_count\{service="sync-service"\} [1-9]/m);
          assert.match(text, /^bible_sync_relay_leader\{service="sync-service"\} 1$/m);
          return true;
        },
        20_000,
        250,
      );
    });

    it('documents every sync route in the OpenAPI document', async () => {
      const doc = await stack.anonymous.get<{ paths: Record<string, Record<string, unknown>> }>(
        '/v1/openapi.json',
      );
      for (const [path, method] of [
        ['/v1/sync/sessions', 'post'],
        ['/v1/sync/sessions/{id}/complete', 'post'],
        ['/v1/sync/changes', 'get'],
        ['/v1/sync/push', 'post'],
        ['/v1/sync/conflicts', 'get'],
        ['/v1/sync/conflicts/{id}/resolve', 'post'],
        ['/v1/admin/sync/analytics', 'get'],
        ['/v1/admin/sync/health', 'get'],
      ]) {
        assert.ok(doc.body.paths[path]?.[method], `${method} ${path}`);
      }
    });
  });

  describe('package invalidation by the relay', () => {
    it('marks ready packages of a changed scope stale, leaves others and newer revisions alone', async () => {
      await seedTextVersion(stack.db, 'tv-inv', 2);
      await seedTextVersion(stack.db, 'tv-inv-other', 1);
      const inScope = await positions(`text_version_id = 'tv-inv'`, []);
      const head = inScope[inScope.length - 1];
      await eventually(async () => relayPassed(head), 30_000, 100);

      const insert = (packageId: string, textVersion: string, revision: string) =>
        stack.db.query(
          `INSERT INTO package_generations (package_id, package_key, package_type, language_entity_id, text_version_id,
             content_revision, sync_cursor, status, object_key, size_bytes, content_sha256, manifest, ready_at)
           VALUES ($1, $1, 'text', 'eng', $2, $3, 'c', 'ready', 'packages/' || $1, 10, repeat('a', 64), '{}', now())`,
          [packageId, textVersion, revision],
        );
      const revision = revisionOf({ txid: BigInt(head.txid), id: BigInt(head.id) });
      await insert('inv-current', 'tv-inv', revision);
      await insert('inv-future', 'tv-inv', '9223372036854775000.1');
      await insert('inv-other', 'tv-inv-other', revision);

      await stack.db.query(`UPDATE verse_texts SET verse_text = 'changed' WHERE id = 'tv-inv-1'`);
      const stale = await eventually(
        async () => {
          const { rows } = await stack.db.query<{ status: string; stale_at: Date | null }>(
            `SELECT status, stale_at FROM package_generations WHERE package_id = 'inv-current'`,
          );
          return rows[0].status === 'stale' ? rows[0] : undefined;
        },
        30_000,
        100,
      );
      assert.ok(stale.stale_at);
      const { rows } = await stack.db.query<{ package_id: string; status: string }>(
        `SELECT package_id, status FROM package_generations WHERE package_id IN ('inv-future', 'inv-other') ORDER BY 1`,
      );
      assert.deepEqual(rows, [
        { package_id: 'inv-future', status: 'ready' },
        { package_id: 'inv-other', status: 'ready' },
      ]);
    });
  });
});
