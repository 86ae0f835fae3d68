// The change_log trigger: one row per real change on each synced table, with the writing
// transaction's id, scope columns, old/new data and the row version; audit columns maintained.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { setChangeContext } from './change-context';
import type { ChangeLogTable } from './constants';
import { freshTestDataSource, insertBaseContent, requireTestDatabaseUrl } from './testing';

interface LogRow {
  id: string;
  txid: string;
  table_name: string;
  record_id: string;
  operation: string;
  old_data: Record<string, unknown> | null;
  new_data: Record<string, unknown> | null;
  changed_by: string | null;
  change_source: string;
  audio_version_id: string | null;
  text_version_id: string | null;
  record_version: number | null;
}

interface TableCase {
  table: ChangeLogTable;
  id: string;
  audio: string | null;
  text: string | null;
  insert: string;
  update: string;
  noop: string;
}

const cases: TableCase[] = [
  {
    table: 'audio_versions',
    id: 'av-case',
    audio: 'av-case',
    text: null,
    insert: `INSERT INTO audio_versions (id, language_entity_id, bible_version_id, name)
             VALUES ('av-case', 'eng', 'bv', 'Case')`,
    update: `UPDATE audio_versions SET name = 'Case renamed' WHERE id = 'av-case'`,
    noop: `UPDATE audio_versions SET name = name WHERE id = 'av-case'`,
  },
  {
    table: 'text_versions',
    id: 'tv-case',
    audio: null,
    text: 'tv-case',
    insert: `INSERT INTO text_versions (id, language_entity_id, bible_version_id, name)
             VALUES ('tv-case', 'eng', 'bv', 'Case')`,
    update: `UPDATE text_versions SET text_version_source = 'upload' WHERE id = 'tv-case'`,
    noop: `UPDATE text_versions SET name = 'Case' WHERE id = 'tv-case'`,
  },
  {
    table: 'media_files',
    id: 'mf-case',
    audio: 'av1',
    text: null,
    insert: `INSERT INTO media_files (id, language_entity_id, audio_version_id, duration_seconds)
             VALUES ('mf-case', 'eng', 'av1', 60)`,
    update: `UPDATE media_files SET bitrate = 64000 WHERE id = 'mf-case'`,
    noop: `UPDATE media_files SET bitrate = bitrate, updated_at = now() WHERE id = 'mf-case'`,
  },
  {
    table: 'verse_texts',
    id: 'vt-case',
    audio: null,
    text: 'tv1',
    insert: `INSERT INTO verse_texts (id, verse_id, text_version_id, verse_text)
             VALUES ('vt-case', 'john-1-1', 'tv1', 'In the beginning')`,
    update: `UPDATE verse_texts SET verse_text = 'In the beginning was the Word' WHERE id = 'vt-case'`,
    noop: `UPDATE verse_texts SET verse_text = verse_text WHERE id = 'vt-case'`,
  },
  {
    table: 'media_files_verses',
    id: 'mfv-case',
    audio: 'av1',
    text: null,
    insert: `INSERT INTO media_files_verses (id, media_file_id, verse_id, start_time_seconds, duration_seconds)
             VALUES ('mfv-case', 'mf-timings', 'john-1-1', 0, 5)`,
    update: `UPDATE media_files_verses SET duration_seconds = 6 WHERE id = 'mfv-case'`,
    noop: `UPDATE media_files_verses SET duration_seconds = 5 + 1 WHERE id = 'mfv-case'`,
  },
];

void describe('change_log triggers', () => {
  let ds: DataSource;

  /** Runs `sql` in one transaction as `userId`; returns that transaction's txid. */
  async function write(sql: string, userId: string | undefined = 'tester'): Promise<string> {
    return ds.transaction(async (m) => {
      if (userId) await setChangeContext(m, { userId, changeSource: 'test' });
      await m.query(sql);
      const [{ txid }] = await m.query<{ txid: string }[]>(
        `SELECT change_log_current_txid() AS txid`,
      );
      return txid;
    });
  }

  async function log(table: string, id: string): Promise<LogRow[]> {
    return ds.query(
      `SELECT * FROM change_log WHERE table_name = $1 AND record_id = $2 ORDER BY id`,
      [table, id],
    );
  }

  async function row(
    table: string,
    id: string,
  ): Promise<{ version: number; updated_at: Date; updated_by: string | null; created_by: string }> {
    const rows = await ds.query<
      { version: number; updated_at: Date; updated_by: string | null; created_by: string }[]
    >(`SELECT version, updated_at, updated_by, created_by FROM ${table} WHERE id = $1`, [id]);
    assert.equal(rows.length, 1, `${table} ${id} exists`);
    return rows[0];
  }

  before(async () => {
    ds = await freshTestDataSource();
    await insertBaseContent(ds);
    await ds.query(`INSERT INTO media_files (id, language_entity_id, audio_version_id, duration_seconds)
                    VALUES ('mf-timings', 'eng', 'av1', 30)`);
  });

  after(async () => {
    await ds?.destroy();
  });

  for (const c of cases) {
    void describe(c.table, () => {
      let updatedAt: Date;

      void it('logs an INSERT with the writing txid, scope and new data', async () => {
        const txid = await write(c.insert);
        const rows = await log(c.table, c.id);
        assert.equal(rows.length, 1);
        const [r] = rows;
        assert.equal(r.operation, 'INSERT');
        assert.equal(r.txid, txid);
        assert.equal(r.record_id, c.id);
        assert.equal(r.old_data, null);
        assert.equal(r.new_data?.id, c.id);
        assert.equal(r.new_data?.version, 1);
        assert.equal(r.record_version, 1);
        assert.equal(r.audio_version_id, c.audio);
        assert.equal(r.text_version_id, c.text);
        assert.equal(r.changed_by, 'tester');
        assert.equal(r.change_source, 'test');
        const current = await row(c.table, c.id);
        assert.equal(current.version, 1);
        assert.equal(current.created_by, 'tester');
        updatedAt = current.updated_at;
      });

      void it('logs an UPDATE, bumps version and updated_at, records the editor', async () => {
        const txid = await write(c.update, 'editor-1');
        const rows = await log(c.table, c.id);
        assert.equal(rows.length, 2);
        const r = rows[1];
        assert.equal(r.operation, 'UPDATE');
        assert.equal(r.txid, txid);
        assert.ok(BigInt(r.id) > BigInt(rows[0].id));
        assert.equal(r.old_data?.version, 1);
        assert.equal(r.new_data?.version, 2);
        assert.equal(r.record_version, 2);
        assert.notDeepEqual(r.old_data, r.new_data);
        assert.equal(r.audio_version_id, c.audio);
        assert.equal(r.text_version_id, c.text);
        assert.equal(r.changed_by, 'editor-1');
        const current = await row(c.table, c.id);
        assert.equal(current.version, 2);
        assert.equal(current.updated_by, 'editor-1');
        assert.equal(current.created_by, 'tester');
        assert.ok(current.updated_at > updatedAt, 'updated_at moves forward');
        updatedAt = current.updated_at;
      });

      void it('does not log or version an UPDATE that changes nothing', async () => {
        await write(c.noop);
        assert.equal((await log(c.table, c.id)).length, 2);
        const current = await row(c.table, c.id);
        assert.equal(current.version, 2);
        assert.deepEqual(current.updated_at, updatedAt);
      });

      void it('logs a soft delete as a DELETE tombstone with old and new data', async () => {
        const txid = await write(`UPDATE ${c.table} SET deleted_at = now() WHERE id = '${c.id}'`);
        const rows = await log(c.table, c.id);
        assert.equal(rows.length, 3);
        const r = rows[2];
        assert.equal(r.operation, 'DELETE');
        assert.equal(r.txid, txid);
        assert.equal(r.old_data?.deleted_at, null);
        assert.ok(r.new_data?.deleted_at, 'new data carries deleted_at');
        assert.equal(r.record_version, 3);
        assert.equal(r.audio_version_id, c.audio);
        assert.equal(r.text_version_id, c.text);
      });

      void it('logs a hard delete with the old row and its scope', async () => {
        const txid = await write(`DELETE FROM ${c.table} WHERE id = '${c.id}'`);
        const rows = await log(c.table, c.id);
        assert.equal(rows.length, 4);
        const r = rows[3];
        assert.equal(r.operation, 'DELETE');
        assert.equal(r.txid, txid);
        assert.equal(r.old_data?.id, c.id);
        assert.equal(r.new_data, null);
        assert.equal(r.record_version, 3);
        assert.equal(r.audio_version_id, c.audio);
        assert.equal(r.text_version_id, c.text);
        assert.equal(r.changed_by, 'tester');
      });
    });
  }

  void it('defaults change_source to server and changed_by to the row editor', async () => {
    await ds.query(`INSERT INTO verse_texts (id, verse_id, text_version_id, verse_text, created_by)
                    VALUES ('vt-plain', 'john-1-3', 'tv1', 'x', 'importer')`);
    const [r] = await log('verse_texts', 'vt-plain');
    assert.equal(r.change_source, 'server');
    assert.equal(r.changed_by, 'importer');
  });

  void it('logs un-deleting a row as an INSERT', async () => {
    await write(`UPDATE verse_texts SET deleted_at = now() WHERE id = 'vt-plain'`);
    await write(`UPDATE verse_texts SET deleted_at = NULL WHERE id = 'vt-plain'`);
    const ops = (await log('verse_texts', 'vt-plain')).map((r) => r.operation);
    assert.deepEqual(ops, ['INSERT', 'DELETE', 'INSERT']);
  });

  void it('logs a move to another scope as DELETE in the old one and INSERT in the new one', async () => {
    await write(`INSERT INTO verse_texts (id, verse_id, text_version_id, verse_text)
                 VALUES ('vt-move', 'john-1-2', 'tv1', 'move me')`);
    const txid = await write(`UPDATE verse_texts SET text_version_id = 'tv2' WHERE id = 'vt-move'`);
    const rows = (await log('verse_texts', 'vt-move')).slice(1);
    assert.deepEqual(
      rows.map((r) => [r.operation, r.text_version_id, r.txid]),
      [
        ['DELETE', 'tv1', txid],
        ['INSERT', 'tv2', txid],
      ],
    );
  });

  void it('gives timings removed by a cascading media file delete their audio scope', async () => {
    await write(`
      INSERT INTO media_files (id, language_entity_id, audio_version_id, duration_seconds)
        VALUES ('mf-cascade', 'eng', 'av2', 20);
      INSERT INTO media_files_verses (id, media_file_id, verse_id, start_time_seconds, duration_seconds)
        VALUES ('mfv-c1', 'mf-cascade', 'john-1-1', 0, 10), ('mfv-c2', 'mf-cascade', 'john-1-2', 10, 10);`);
    const txid = await write(`DELETE FROM media_files WHERE id = 'mf-cascade'`);
    const rows: LogRow[] = await ds.query(
      `SELECT * FROM change_log WHERE txid = $1 ORDER BY table_name, record_id`,
      [txid],
    );
    assert.deepEqual(
      rows.map((r) => [r.table_name, r.record_id, r.operation, r.audio_version_id]),
      [
        ['media_files', 'mf-cascade', 'DELETE', 'av2'],
        ['media_files_verses', 'mfv-c1', 'DELETE', 'av2'],
        ['media_files_verses', 'mfv-c2', 'DELETE', 'av2'],
      ],
    );
  });

  void it('logs one row per changed row of a multi-row statement and skips unchanged ones', async () => {
    await write(`INSERT INTO text_versions (id, language_entity_id, bible_version_id, name)
                   VALUES ('tv3', 'eng', 'bv', 'Text three');
                 INSERT INTO verse_texts (id, verse_id, text_version_id, verse_text)
                   VALUES ('vt-b1', 'john-1-1', 'tv3', 'one'), ('vt-b2', 'john-1-2', 'tv3', 'two'),
                          ('vt-b3', 'john-1-3', 'tv3', 'three')`);
    const txid = await write(`UPDATE verse_texts
                                 SET verse_text = CASE id WHEN 'vt-b2' THEN verse_text ELSE upper(verse_text) END
                               WHERE id IN ('vt-b1', 'vt-b2', 'vt-b3')`);
    const rows: LogRow[] = await ds.query(
      `SELECT * FROM change_log WHERE txid = $1 ORDER BY record_id`,
      [txid],
    );
    assert.deepEqual(
      rows.map((r) => [r.record_id, r.operation, r.new_data?.verse_text]),
      [
        ['vt-b1', 'UPDATE', 'ONE'],
        ['vt-b3', 'UPDATE', 'THREE'],
      ],
    );
    const noop = await write(
      `UPDATE verse_texts SET verse_text = verse_text WHERE text_version_id = 'tv3'`,
    );
    const [{ n }] = await ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM change_log WHERE txid = $1`,
      [noop],
    );
    assert.equal(n, 0);
  });

  void it('refuses to change a record id', async () => {
    await assert.rejects(
      ds.query(`UPDATE verse_texts SET id = 'vt-renamed' WHERE id = 'vt-b1'`),
      /ids are immutable/,
    );
  });

  void it('keeps rows of a still-open transaction and everything after it below the safe horizon', async () => {
    const url = requireTestDatabaseUrl();
    const slow = new Client({ connectionString: url });
    const fast = new Client({ connectionString: url });
    await Promise.all([slow.connect(), fast.connect()]);
    try {
      // The slow writer takes its txid first but commits last.
      await slow.query('BEGIN');
      await slow.query(`UPDATE verse_texts SET verse_text = 'slow' WHERE id = 'vt-plain'`);
      await fast.query(`UPDATE verse_texts SET verse_text = 'fast' WHERE id = 'vt-move'`);
      const visible = async () => {
        const rows: { record_id: string }[] = await ds.query(
          `SELECT record_id FROM change_log
            WHERE txid < change_log_safe_xmin() AND record_id IN ('vt-plain', 'vt-move')
              AND new_data->>'verse_text' IN ('slow', 'fast')`,
        );
        return rows.map((r) => r.record_id).sort();
      };
      // The fast transaction committed, but a reader must not pass it while the slow one is open.
      assert.deepEqual(await visible(), []);
      await slow.query('COMMIT');
      // The horizon is cluster-wide: an unrelated open transaction elsewhere may hold it briefly.
      const deadline = Date.now() + 15_000;
      let seen = await visible();
      while (seen.length < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        seen = await visible();
      }
      assert.deepEqual(seen, ['vt-move', 'vt-plain']);
    } finally {
      await Promise.all([slow.end(), fast.end()]);
    }
  });
});
