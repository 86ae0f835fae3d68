// Service-level test of SyncPushService: the Nest module built in process (@nestjs/testing) over
// the real test Postgres, no HTTP and no other service, so a push rule that breaks fails in
// seconds. The process-level behaviour (HTTP, sessions API, relay) is tests/src/e2e/sync.int-spec.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, InfraModule } from '@bible/common';
import {
  freshTestDataSource,
  insertBaseContent,
  requireTestDatabaseUrl,
} from '@bible/common/database/testing';
import type { AuthUser } from '../auth/auth.types';
import { SyncPushService } from './sync-push.service';

const editor: AuthUser = { id: 'push-editor', role: 'editor' };
const other: AuthUser = { id: 'push-other', role: 'editor' };

describe('SyncPushService (in process, real Postgres)', () => {
  let app: TestingModule;
  let push: SyncPushService;
  let db: DataSource;

  before(async () => {
    const url = requireTestDatabaseUrl();
    const setup = await freshTestDataSource(url);
    await insertBaseContent(setup);
    await setup.query(
      `INSERT INTO verse_texts (id, verse_id, text_version_id, verse_text, publish_status)
       VALUES ('vt-1', 'john-1-1', 'tv1', 'server 1', 'published'),
              ('vt-2', 'john-1-2', 'tv1', 'server 2', 'published')`,
    );
    await setup.destroy();
    app = await Test.createTestingModule({
      imports: [
        InfraModule.forRoot({
          serviceName: 'sync-push-test',
          database: { url, poolMax: 4, statementTimeoutMs: 10_000 },
        }),
      ],
      providers: [SyncPushService],
    }).compile();
    push = app.get(SyncPushService);
    db = app.get<DataSource>(DATA_SOURCE);
  });

  after(async () => {
    await app?.close();
  });

  async function session(user: AuthUser): Promise<string> {
    const rows: { id: string }[] = await db.query(
      `INSERT INTO sync_sessions (user_id, device_id) VALUES ($1, 'device') RETURNING id`,
      [user.id],
    );
    return rows[0].id;
  }

  async function verse(id: string): Promise<{ verse_text: string; version: number }> {
    const rows: { verse_text: string; version: number }[] = await db.query(
      `SELECT verse_text, version FROM verse_texts WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  it('applies a mutation once: a replay answers the first result and writes nothing', async () => {
    const sessionId = await session(editor);
    const body = {
      sessionId,
      clientId: 'client-a',
      mutations: [
        {
          mutationId: randomUUID(),
          table: 'verse_texts',
          recordId: 'vt-1',
          operation: 'UPDATE' as const,
          data: { verse_text: 'client 1' },
          baseVersion: 1,
          clientUpdatedAt: new Date().toISOString(),
        },
      ],
    };
    const first = await push.push(editor, body);
    assert.equal(first.results[0].result, 'applied', JSON.stringify(first.results[0]));
    assert.equal(first.results[0].version, 2);
    assert.deepEqual(await verse('vt-1'), { verse_text: 'client 1', version: 2 });

    const replay = await push.push(editor, body);
    assert.deepEqual(replay.results[0], first.results[0]);
    assert.deepEqual(await verse('vt-1'), { verse_text: 'client 1', version: 2 });
    const queued: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM sync_queue WHERE mutation_id = $1`,
      [body.mutations[0].mutationId],
    );
    assert.equal(queued[0].n, 1);
  });

  it("rejects another user's mutation id for the same client without applying it", async () => {
    const mutationId = randomUUID();
    const mutation = {
      mutationId,
      table: 'verse_texts',
      recordId: 'vt-2',
      operation: 'UPDATE' as const,
      data: { verse_text: 'editor 2' },
      baseVersion: 1,
      clientUpdatedAt: new Date().toISOString(),
    };
    const mine = await push.push(editor, {
      sessionId: await session(editor),
      clientId: 'shared-client',
      mutations: [mutation],
    });
    assert.equal(mine.results[0].result, 'applied');
    const theirs = await push.push(other, {
      sessionId: await session(other),
      clientId: 'shared-client',
      mutations: [{ ...mutation, data: { verse_text: 'other 2' } }],
    });
    assert.equal(theirs.results[0].result, 'rejected');
    assert.equal(theirs.results[0].error?.code, 'MUTATION_ID_TAKEN');
    assert.equal((await verse('vt-2')).verse_text, 'editor 2');
  });

  it("refuses a session that is not the caller's", async () => {
    const sessionId = await session(other);
    await assert.rejects(
      push.push(editor, {
        sessionId,
        clientId: 'client-b',
        mutations: [
          {
            mutationId: randomUUID(),
            table: 'verse_texts',
            recordId: 'vt-1',
            operation: 'UPDATE' as const,
            data: { verse_text: 'nope' },
            baseVersion: 2,
            clientUpdatedAt: new Date().toISOString(),
          },
        ],
      }),
      (error: { status?: number }) => error.status === 404,
    );
    assert.equal((await verse('vt-1')).verse_text, 'client 1');
  });
});
