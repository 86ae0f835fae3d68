import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  type Decision,
  type Row,
  authorizeMutation,
  decideMutation,
  effectiveBaseVersion,
  jsonEqual,
  lastWriter,
  resolutionWrite,
} from './rules';
import { lockRowsStatement, writeStatement } from './write-sql';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function verse(version: number, fields: Row = {}, updatedAtMs = T0): Row {
  return {
    id: 'vt1',
    verse_id: 'john-1-1',
    text_version_id: 'tv1',
    verse_text: 'In the beginning',
    publish_status: 'published',
    version,
    updated_at: iso(updatedAtMs),
    deleted_at: null,
    ...fields,
  };
}

function decide(input: Partial<Parameters<typeof decideMutation>[0]>): Decision {
  return decideMutation({
    operation: 'UPDATE',
    data: {},
    baseVersion: 1,
    clientUpdatedAtMs: T0,
    nowMs: T0 + 60_000,
    server: verse(1),
    ...input,
  });
}

describe('authorizeMutation: who may write what', () => {
  it('plain users may not write shared content', () => {
    const d = authorizeMutation('user', {
      table: 'verse_texts',
      operation: 'UPDATE',
      data: { verse_text: 'x' },
    });
    assert.equal(d.kind, 'reject');
    assert.equal(d.kind === 'reject' && d.code, 'FORBIDDEN');
  });

  it('editors may edit verse texts but only allow-listed columns', () => {
    assert.deepEqual(
      authorizeMutation('editor', {
        table: 'verse_texts',
        operation: 'UPDATE',
        data: { verse_text: 'x' },
      }),
      {
        kind: 'allow',
      },
    );
    const d = authorizeMutation('editor', {
      table: 'verse_texts',
      operation: 'UPDATE',
      data: { text_version_id: 'tv2', verse_text: 'x' },
    });
    assert.equal(d.kind === 'reject' && d.code, 'COLUMN_NOT_WRITABLE');
    assert.match(d.kind === 'reject' ? d.message : '', /text_version_id/);
  });

  it('editors may create and delete verse texts', () => {
    const data = { verse_id: 'v', text_version_id: 'tv', verse_text: 'x' };
    assert.equal(
      authorizeMutation('editor', { table: 'verse_texts', operation: 'INSERT', data }).kind,
      'allow',
    );
    assert.equal(
      authorizeMutation('editor', { table: 'verse_texts', operation: 'DELETE' }).kind,
      'allow',
    );
  });

  it('media files: metadata only, never created through sync', () => {
    assert.equal(
      authorizeMutation('editor', {
        table: 'media_files',
        operation: 'UPDATE',
        data: { check_status: 'approved' },
      }).kind,
      'allow',
    );
    const storage = authorizeMutation('admin', {
      table: 'media_files',
      operation: 'UPDATE',
      data: { sha256: 'a'.repeat(64) },
    });
    assert.equal(storage.kind === 'reject' && storage.code, 'COLUMN_NOT_WRITABLE');
    const insert = authorizeMutation('admin', {
      table: 'media_files',
      operation: 'INSERT',
      data: { check_status: 'approved' },
    });
    assert.equal(insert.kind === 'reject' && insert.code, 'OPERATION_NOT_ALLOWED');
  });

  it('versions need admin and cannot be deleted', () => {
    const editor = authorizeMutation('editor', {
      table: 'text_versions',
      operation: 'UPDATE',
      data: { name: 'x' },
    });
    assert.equal(editor.kind === 'reject' && editor.code, 'FORBIDDEN');
    assert.equal(
      authorizeMutation('admin', {
        table: 'text_versions',
        operation: 'UPDATE',
        data: { name: 'x' },
      }).kind,
      'allow',
    );
    const del = authorizeMutation('admin', { table: 'audio_versions', operation: 'DELETE' });
    assert.equal(del.kind === 'reject' && del.code, 'OPERATION_NOT_ALLOWED');
  });

  it('verse timings are server-owned: ignored for every role', () => {
    for (const role of ['user', 'editor', 'admin'] as const) {
      assert.equal(
        authorizeMutation(role, {
          table: 'media_files_verses',
          operation: 'UPDATE',
          data: { duration_seconds: 2 },
        }).kind,
        'ignore',
      );
    }
  });

  it('unknown tables and empty writes are rejected', () => {
    const unknown = authorizeMutation('admin', {
      table: 'users',
      operation: 'UPDATE',
      data: { role: 'admin' },
    });
    assert.equal(unknown.kind === 'reject' && unknown.code, 'UNKNOWN_TABLE');
    const empty = authorizeMutation('admin', {
      table: 'verse_texts',
      operation: 'UPDATE',
      data: {},
    });
    assert.equal(empty.kind === 'reject' && empty.code, 'MISSING_DATA');
  });
});

describe('lastWriter: LWW with a 1 s conflict window', () => {
  const now = T0 + 10_000;
  it('later side wins outside the window', () => {
    assert.equal(lastWriter(T0 + 2_000, T0, now), 'client');
    assert.equal(lastWriter(T0, T0 + 2_000, now), 'server');
  });
  it('within 1 s is a tie', () => {
    assert.equal(lastWriter(T0 + 999, T0, now), 'tie');
    assert.equal(lastWriter(T0, T0 + 500, now), 'tie');
    assert.equal(lastWriter(T0 + 1_000, T0, now), 'client');
  });
  it('a client clock in the future is capped at the server receipt time', () => {
    assert.equal(lastWriter(now + 3_600_000, now - 5_000, now), 'client');
    // Claiming the future cannot beat a server write made after receipt-time minus the window.
    assert.equal(lastWriter(now + 3_600_000, now - 500, now), 'tie');
  });
});

describe('effectiveBaseVersion: a client never conflicts with itself', () => {
  it('skips versions the same client produced', () => {
    assert.equal(effectiveBaseVersion(3, 5, new Set([4, 5])), 5);
    assert.equal(effectiveBaseVersion(3, 5, new Set([4])), 4);
    assert.equal(effectiveBaseVersion(3, 5, new Set([5])), 3);
    assert.equal(effectiveBaseVersion(5, 5, new Set()), 5);
  });
});

describe('decideMutation', () => {
  it('applies a change based on the current version', () => {
    const d = decide({ data: { verse_text: 'new' } });
    assert.deepEqual(d, {
      kind: 'write',
      write: 'update',
      set: { verse_text: 'new' },
      merged: [],
      discarded: [],
    });
  });

  it('writes only the columns that differ; identical values are a no-op', () => {
    const d = decide({ data: { verse_text: 'new', publish_status: 'published' } });
    assert.deepEqual(d.kind === 'write' && d.set, { verse_text: 'new' });
    assert.equal(decide({ data: { verse_text: 'In the beginning' } }).kind, 'noop');
  });

  it('merges fields the server did not change since the base', () => {
    const base = verse(1);
    const server = verse(2, { publish_status: 'draft' }, T0 + 30_000);
    const d = decide({
      data: { verse_text: 'client text' },
      base,
      server,
      clientUpdatedAtMs: T0 + 1_000,
    });
    assert.deepEqual(d, {
      kind: 'write',
      write: 'update',
      set: { verse_text: 'client text' },
      merged: ['verse_text'],
      discarded: [],
    });
  });

  it('same field changed on both sides: the later writer wins', () => {
    const base = verse(1);
    const server = verse(2, { verse_text: 'server text' }, T0 + 10_000);
    const clientLater = decide({
      data: { verse_text: 'client' },
      base,
      server,
      clientUpdatedAtMs: T0 + 20_000,
    });
    assert.deepEqual(clientLater, {
      kind: 'write',
      write: 'update',
      set: { verse_text: 'client' },
      merged: [],
      discarded: [],
    });
    const serverLater = decide({
      data: { verse_text: 'client' },
      base,
      server,
      clientUpdatedAtMs: T0 + 2_000,
    });
    assert.equal(serverLater.kind, 'reject');
    assert.equal(serverLater.kind === 'reject' && serverLater.code, 'SERVER_NEWER');
  });

  it('same field, different content, within 1 s: a conflict', () => {
    const base = verse(1);
    const server = verse(2, { verse_text: 'server text' }, T0 + 10_000);
    const d = decide({
      data: { verse_text: 'client' },
      base,
      server,
      clientUpdatedAtMs: T0 + 10_400,
    });
    assert.equal(d.kind, 'conflict');
    assert.deepEqual(d.kind === 'conflict' && d.fields, ['verse_text']);
  });

  it('same field changed to the same content is not a conflict', () => {
    const base = verse(1);
    const server = verse(2, { verse_text: 'same' }, T0 + 10_000);
    assert.equal(
      decide({ data: { verse_text: 'same' }, base, server, clientUpdatedAtMs: T0 + 10_100 }).kind,
      'noop',
    );
  });

  it('mixed: merged fields apply while fields the server won are discarded', () => {
    const base = verse(1);
    const server = verse(2, { verse_text: 'server text' }, T0 + 10_000);
    const d = decide({
      data: { verse_text: 'client', publish_status: 'archived' },
      base,
      server,
      clientUpdatedAtMs: T0 + 1_000,
    });
    assert.deepEqual(d, {
      kind: 'write',
      write: 'update',
      set: { publish_status: 'archived' },
      merged: ['publish_status'],
      discarded: ['verse_text'],
    });
  });

  it('an unknown base counts every differing field as changed on both sides', () => {
    const server = verse(3, {}, T0 + 10_000);
    const d = decide({
      data: { publish_status: 'draft' },
      baseVersion: 1,
      base: undefined,
      server,
      clientUpdatedAtMs: T0,
    });
    assert.equal(d.kind === 'reject' && d.code, 'SERVER_NEWER');
  });

  it('rejects a base version the server never had', () => {
    const d = decide({ data: { verse_text: 'x' }, baseVersion: 9 });
    assert.equal(d.kind === 'reject' && d.code, 'BASE_VERSION_AHEAD');
  });

  it('updates of missing or deleted records are rejected', () => {
    assert.equal(decide({ server: null, data: { verse_text: 'x' } }).kind === 'reject', true);
    const deleted = decide({
      server: verse(2, { deleted_at: iso(T0) }),
      baseVersion: 2,
      data: { verse_text: 'x' },
    });
    assert.equal(deleted.kind === 'reject' && deleted.code, 'RECORD_DELETED');
  });

  it('deletes: current base applies, stale base follows LWW, a repeat is a no-op', () => {
    assert.equal(decide({ operation: 'DELETE', data: null }).kind, 'write');
    const server = verse(2, { verse_text: 'server text' }, T0 + 10_000);
    assert.equal(
      decide({ operation: 'DELETE', data: null, server, clientUpdatedAtMs: T0 + 20_000 }).kind,
      'write',
    );
    assert.equal(
      decide({ operation: 'DELETE', data: null, server, clientUpdatedAtMs: T0 + 1_000 }).kind,
      'reject',
    );
    assert.equal(
      decide({ operation: 'DELETE', data: null, server, clientUpdatedAtMs: T0 + 10_300 }).kind,
      'conflict',
    );
    assert.equal(
      decide({ operation: 'DELETE', data: null, server: verse(2, { deleted_at: iso(T0) }) }).kind,
      'noop',
    );
  });

  it('inserts: new rows are created, a later insert restores a deleted row, an existing row is updated', () => {
    const data = { verse_id: 'john-1-1', text_version_id: 'tv1', verse_text: 'new' };
    assert.deepEqual(decide({ operation: 'INSERT', data, server: null, baseVersion: undefined }), {
      kind: 'write',
      write: 'insert',
      set: data,
      merged: [],
      discarded: [],
    });
    const deleted = verse(3, { deleted_at: iso(T0) }, T0);
    const restore = decide({
      operation: 'INSERT',
      data,
      server: deleted,
      baseVersion: undefined,
      clientUpdatedAtMs: T0 + 5_000,
    });
    assert.equal(restore.kind === 'write' && restore.write, 'undelete');
    const tooOld = decide({
      operation: 'INSERT',
      data,
      server: deleted,
      baseVersion: undefined,
      clientUpdatedAtMs: T0 - 5_000,
    });
    assert.equal(tooOld.kind === 'reject' && tooOld.code, 'SERVER_NEWER');
    const existing = decide({
      operation: 'INSERT',
      data,
      server: verse(1, {}, T0 - 60_000),
      baseVersion: undefined,
      clientUpdatedAtMs: T0,
    });
    assert.deepEqual(existing.kind === 'write' && existing.set, { verse_text: 'new' });
  });

  it('property: only client columns are written, never a field the server won', () => {
    const value = fc.constantFrom('a', 'b', 'c');
    fc.assert(
      fc.property(
        fc.record({ verse_text: value, publish_status: fc.constantFrom('draft', 'published') }),
        fc.record({ verse_text: value, publish_status: fc.constantFrom('draft', 'published') }),
        fc.dictionary(fc.constantFrom('verse_text', 'publish_status'), value),
        fc.integer({ min: -5_000, max: 5_000 }),
        fc.integer({ min: 1, max: 3 }),
        (baseFields, serverFields, data, skew, serverVersion) => {
          const base = verse(1, baseFields);
          const server = verse(serverVersion, serverFields, T0);
          const d = decideMutation({
            operation: 'UPDATE',
            data,
            baseVersion: 1,
            clientUpdatedAtMs: T0 + skew,
            nowMs: T0 + 60_000,
            server,
            base,
          });
          if (d.kind !== 'write') return;
          for (const [field, v] of Object.entries(d.set)) {
            assert.ok(field in data, 'writes only client columns');
            assert.ok(jsonEqual(v, data[field]));
            const serverChanged = serverVersion > 1 && !jsonEqual(base[field], server[field]);
            if (serverChanged)
              assert.ok(
                skew >= 1_000,
                `a both-sides change is taken only when the client is later (${field})`,
              );
          }
        },
      ),
    );
  });
});

describe('resolutionWrite', () => {
  it('server_wins writes nothing; client_wins writes the client side; merged its data', () => {
    assert.deepEqual(resolutionWrite('server_wins', { verse_text: 'c' }, undefined), {
      kind: 'none',
    });
    assert.deepEqual(resolutionWrite('client_wins', { verse_text: 'c' }, undefined), {
      kind: 'set',
      set: { verse_text: 'c' },
    });
    assert.deepEqual(resolutionWrite('merged', { verse_text: 'c' }, { verse_text: 'm' }), {
      kind: 'set',
      set: { verse_text: 'm' },
    });
    assert.deepEqual(resolutionWrite('client_wins', { deleted_at: iso(T0) }, undefined), {
      kind: 'delete',
    });
  });
});

describe('SQL builders', () => {
  it('build parameterised statements for allow-listed tables only', () => {
    const s = writeStatement('verse_texts', 'vt1', 'update', {
      verse_text: 'x',
      publish_status: 'draft',
    });
    assert.match(
      s.text,
      /UPDATE "verse_texts" AS t SET "verse_text" = \$2, "publish_status" = \$3 WHERE t.id = \$1/,
    );
    assert.deepEqual(s.values, ['vt1', 'x', 'draft']);
    assert.throws(() => writeStatement('users', 'u', 'update', { role: 'admin' }));
    assert.throws(() =>
      writeStatement('verse_texts', 'vt1', 'update', { 'x"; DROP TABLE users; --': 1 }),
    );
    assert.throws(() => lockRowsStatement('pg_authid', ['x'], true));
    const del = writeStatement('verse_texts', 'vt1', 'delete', {});
    assert.match(del.text, /SET "deleted_at" = now\(\)/);
  });
});
