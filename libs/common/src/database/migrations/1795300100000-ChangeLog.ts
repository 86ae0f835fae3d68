import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * The change feed that incremental sync reads. Rows are ordered by (txid, id): id alone is not
 * a safe cursor because sequence values are handed out before commit, so a reader could pass a
 * row whose transaction commits later. Readers only take rows with txid < change_log_safe_xmin():
 * every transaction below that horizon has finished, so nothing can still appear before the cursor.
 */

const LOGGED_TABLES = [
  'audio_versions',
  'text_versions',
  'media_files',
  'media_files_verses',
  'verse_texts',
];

const UP = `
-- The writing transaction's id, epoch-extended (xid8) so it never wraps; bigint because TypeORM
-- has no xid8 type.
CREATE FUNCTION change_log_current_txid() RETURNS bigint LANGUAGE sql VOLATILE AS $fn$
  SELECT pg_current_xact_id()::text::bigint
$fn$;

-- Upper bound (exclusive) of txids a reader may consume: all older transactions have ended.
CREATE FUNCTION change_log_safe_xmin() RETURNS bigint LANGUAGE sql STABLE AS $fn$
  SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint
$fn$;

CREATE TABLE change_log (
  id bigserial NOT NULL,
  txid bigint NOT NULL DEFAULT change_log_current_txid(),
  table_name text NOT NULL,
  record_id text NOT NULL,
  operation text NOT NULL,
  old_data jsonb,
  new_data jsonb,
  changed_by text,
  changed_at timestamptz NOT NULL DEFAULT now(),
  change_source text NOT NULL DEFAULT 'server',
  audio_version_id text,
  text_version_id text,
  record_version integer,
  CONSTRAINT pk_change_log PRIMARY KEY (id),
  CONSTRAINT chk_change_log_table_name CHECK (table_name IN (${LOGGED_TABLES.map((t) => `'${t}'`).join(', ')})),
  CONSTRAINT chk_change_log_operation CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE'))
);
CREATE INDEX idx_change_log_txid_id ON change_log (txid, id);
CREATE INDEX idx_change_log_audio_version_id_txid_id ON change_log (audio_version_id, txid, id)
  WHERE audio_version_id IS NOT NULL;
CREATE INDEX idx_change_log_text_version_id_txid_id ON change_log (text_version_id, txid, id)
  WHERE text_version_id IS NOT NULL;
CREATE INDEX idx_change_log_table_name_record_id ON change_log (table_name, record_id, id);

-- Sync scope of a row (as jsonb): the audio and/or text version it belongs to. A plain SQL
-- function so the planner inlines it into the set-based inserts below.
CREATE FUNCTION change_log_scope(tbl text, r jsonb)
  RETURNS TABLE (audio_version_id text, text_version_id text)
  LANGUAGE sql STABLE AS $fn$
  SELECT
    CASE tbl
      WHEN 'audio_versions' THEN r->>'id'
      WHEN 'media_files' THEN r->>'audio_version_id'
      WHEN 'media_files_verses' THEN coalesce(
        (SELECT mf.audio_version_id FROM media_files mf WHERE mf.id = r->>'media_file_id'),
        -- A cascaded delete runs after its media file is gone; the file's log rows still know.
        (SELECT cl.audio_version_id FROM change_log cl
          WHERE cl.table_name = 'media_files' AND cl.record_id = r->>'media_file_id'
          ORDER BY cl.id DESC LIMIT 1))
    END,
    CASE tbl
      WHEN 'text_versions' THEN r->>'id'
      WHEN 'verse_texts' THEN r->>'text_version_id'
    END
$fn$;

-- Statement-level capture over the transition tables: one INSERT ... SELECT per statement, so
-- bulk writes (a whole text version) cost a single extra statement, not one per row.
--   INSERT               -> INSERT (a row inserted already deleted is a DELETE)
--   UPDATE               -> UPDATE; nothing logged when only bookkeeping columns changed;
--                           setting deleted_at is a DELETE tombstone (old and new data),
--                           clearing it an INSERT (the row reappears), and a row that moves to
--                           another scope is a DELETE in the old one plus an INSERT in the new one
--   DELETE               -> DELETE with the old row
-- changed_by is bible.user_id when set, else the row's updated_by (a hard delete only knows the
-- former); change_source is bible.change_source, default 'server'.
CREATE FUNCTION change_log_capture() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  actor text := nullif(current_setting('bible.user_id', true), '');
  source text := coalesce(nullif(current_setting('bible.change_source', true), ''), 'server');
  bookkeeping CONSTANT text[] := ARRAY['updated_at', 'updated_by', 'version'];
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_log (table_name, record_id, operation, old_data, new_data, changed_by,
                            change_source, audio_version_id, text_version_id, record_version)
    SELECT TG_TABLE_NAME, x.r->>'id',
           CASE WHEN x.r->>'deleted_at' IS NULL THEN 'INSERT' ELSE 'DELETE' END,
           NULL, x.r, coalesce(actor, x.r->>'updated_by'), source,
           s.audio_version_id, s.text_version_id, (x.r->>'version')::integer
      FROM (SELECT to_jsonb(t) AS r FROM new_rows t) x
      CROSS JOIN LATERAL change_log_scope(TG_TABLE_NAME, x.r) s;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (table_name, record_id, operation, old_data, new_data, changed_by,
                            change_source, audio_version_id, text_version_id, record_version)
    SELECT TG_TABLE_NAME, x.r->>'id', 'DELETE', x.r, NULL, actor, source,
           s.audio_version_id, s.text_version_id, (x.r->>'version')::integer
      FROM (SELECT to_jsonb(t) AS r FROM old_rows t) x
      CROSS JOIN LATERAL change_log_scope(TG_TABLE_NAME, x.r) s;
  ELSE
    -- Ids are immutable (content_touch), so old and new rows pair up by id.
    INSERT INTO change_log (table_name, record_id, operation, old_data, new_data, changed_by,
                            change_source, audio_version_id, text_version_id, record_version)
    SELECT TG_TABLE_NAME, c.n->>'id', e.op, c.o, c.n, coalesce(actor, c.n->>'updated_by'), source,
           e.audio_version_id, e.text_version_id, (c.n->>'version')::integer
      FROM (
        SELECT p.o, p.n, os.audio_version_id AS old_audio, os.text_version_id AS old_text,
               ns.audio_version_id AS new_audio, ns.text_version_id AS new_text,
               CASE WHEN p.n->>'deleted_at' IS NOT NULL THEN 'DELETE'
                    WHEN p.o->>'deleted_at' IS NOT NULL THEN 'INSERT'
                    ELSE 'UPDATE' END AS op
          FROM (SELECT to_jsonb(o) AS o, to_jsonb(n) AS n
                  FROM old_rows o JOIN new_rows n ON n.id = o.id) p
          CROSS JOIN LATERAL change_log_scope(TG_TABLE_NAME, p.o) os
          CROSS JOIN LATERAL change_log_scope(TG_TABLE_NAME, p.n) ns
         WHERE (p.o - bookkeeping) IS DISTINCT FROM (p.n - bookkeeping)
      ) c
      CROSS JOIN LATERAL (
        SELECT c.op = 'UPDATE'
               AND (c.old_audio, c.old_text) IS DISTINCT FROM (c.new_audio, c.new_text) AS moved
      ) m
      CROSS JOIN LATERAL (VALUES
        (1, CASE WHEN m.moved THEN 'DELETE' END, c.old_audio, c.old_text),
        (2, CASE WHEN m.moved THEN 'INSERT' ELSE c.op END, c.new_audio, c.new_text)
      ) e (seq, op, audio_version_id, text_version_id)
     WHERE e.op IS NOT NULL
     ORDER BY c.n->>'id', e.seq;
  END IF;
  RETURN NULL;
END
$fn$;

${LOGGED_TABLES.map(
  (t) => `CREATE TRIGGER ${t}_change_log_insert AFTER INSERT ON ${t}
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_log_capture();
CREATE TRIGGER ${t}_change_log_update AFTER UPDATE ON ${t}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_log_capture();
CREATE TRIGGER ${t}_change_log_delete AFTER DELETE ON ${t}
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_log_capture();`,
).join('\n')}

-- Wake listeners (the change relay) when entries commit: NOTIFY is delivered on commit and
-- duplicates within a transaction collapse, so this is one message per writing transaction.
CREATE FUNCTION change_log_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM inserted) THEN
    PERFORM pg_notify('change_log', '');
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER change_log_notify AFTER INSERT ON change_log
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION change_log_notify();
`;

const DOWN = `
-- CASCADE takes the capture triggers on the content tables with the function.
DROP FUNCTION change_log_capture() CASCADE;
DROP TABLE change_log;
DROP FUNCTION change_log_notify();
DROP FUNCTION change_log_scope(text, jsonb);
DROP FUNCTION change_log_safe_xmin();
DROP FUNCTION change_log_current_txid();
`;

export class ChangeLog1795300100000 implements MigrationInterface {
  name = 'ChangeLog1795300100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}
