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

-- Sync scope of a row: the audio and/or text version it belongs to.
CREATE FUNCTION change_log_scope(tbl text, r jsonb, OUT audio_version_id text,
                                 OUT text_version_id text) LANGUAGE plpgsql STABLE AS $fn$
BEGIN
  CASE tbl
    WHEN 'audio_versions' THEN audio_version_id := r->>'id';
    WHEN 'text_versions' THEN text_version_id := r->>'id';
    WHEN 'media_files' THEN audio_version_id := r->>'audio_version_id';
    WHEN 'verse_texts' THEN text_version_id := r->>'text_version_id';
    WHEN 'media_files_verses' THEN
      SELECT mf.audio_version_id INTO audio_version_id
        FROM media_files mf WHERE mf.id = r->>'media_file_id';
      IF NOT FOUND THEN
        -- Cascaded delete: the media file row is already gone, its earlier log rows still know.
        SELECT cl.audio_version_id INTO audio_version_id
          FROM change_log cl
         WHERE cl.table_name = 'media_files' AND cl.record_id = r->>'media_file_id'
         ORDER BY cl.id DESC LIMIT 1;
      END IF;
    ELSE
      NULL;
  END CASE;
END
$fn$;

-- One change_log row per real change. A soft delete (or any write to a soft-deleted row) is a
-- DELETE tombstone carrying old and new data; un-deleting is an INSERT (the row reappears); an
-- UPDATE that changes nothing but bookkeeping is not logged; a row that moves to another scope
-- is a DELETE in the old scope plus an INSERT in the new one, so scoped readers see both sides.
CREATE FUNCTION change_log_capture() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  bookkeeping CONSTANT text[] := ARRAY['updated_at', 'updated_by', 'version'];
  actor text := nullif(current_setting('bible.user_id', true), '');
  source text := coalesce(nullif(current_setting('bible.change_source', true), ''), 'server');
  old_row jsonb;
  new_row jsonb;
  op text;
  old_audio text;
  old_text text;
  new_audio text;
  new_text text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    new_row := to_jsonb(NEW);
    op := CASE WHEN NEW.deleted_at IS NULL THEN 'INSERT' ELSE 'DELETE' END;
  ELSIF TG_OP = 'DELETE' THEN
    old_row := to_jsonb(OLD);
    op := 'DELETE';
  ELSE
    old_row := to_jsonb(OLD);
    new_row := to_jsonb(NEW);
    IF (old_row - bookkeeping) = (new_row - bookkeeping) THEN
      RETURN NULL;
    END IF;
    op := CASE
      WHEN NEW.deleted_at IS NOT NULL THEN 'DELETE'
      WHEN OLD.deleted_at IS NOT NULL THEN 'INSERT'
      ELSE 'UPDATE'
    END;
  END IF;

  IF old_row IS NOT NULL THEN
    SELECT s.audio_version_id, s.text_version_id INTO old_audio, old_text
      FROM change_log_scope(TG_TABLE_NAME, old_row) s;
  END IF;
  IF new_row IS NOT NULL THEN
    SELECT s.audio_version_id, s.text_version_id INTO new_audio, new_text
      FROM change_log_scope(TG_TABLE_NAME, new_row) s;
  ELSE
    new_audio := old_audio;
    new_text := old_text;
  END IF;

  IF op = 'UPDATE' AND (old_audio IS DISTINCT FROM new_audio OR old_text IS DISTINCT FROM new_text) THEN
    INSERT INTO change_log (table_name, record_id, operation, old_data, new_data, changed_by,
                            change_source, audio_version_id, text_version_id, record_version)
    VALUES (TG_TABLE_NAME, new_row->>'id', 'DELETE', old_row, new_row,
            coalesce(actor, new_row->>'updated_by'), source, old_audio, old_text,
            (new_row->>'version')::integer);
    op := 'INSERT';
  END IF;

  -- changed_by: the acting user; for a hard delete only an explicit bible.user_id is known.
  INSERT INTO change_log (table_name, record_id, operation, old_data, new_data, changed_by,
                          change_source, audio_version_id, text_version_id, record_version)
  VALUES (TG_TABLE_NAME, coalesce(new_row, old_row)->>'id', op, old_row, new_row,
          coalesce(actor, new_row->>'updated_by'), source, new_audio, new_text,
          (coalesce(new_row, old_row)->>'version')::integer);
  RETURN NULL;
END
$fn$;

${LOGGED_TABLES.map(
  (t) =>
    `CREATE TRIGGER ${t}_change_log AFTER INSERT OR UPDATE OR DELETE ON ${t}\n  FOR EACH ROW EXECUTE FUNCTION change_log_capture();`,
).join('\n')}

-- Wake listeners (the change relay) when new entries commit; NOTIFY is delivered on commit and
-- duplicates within a transaction collapse, so this costs one message per writing transaction.
CREATE FUNCTION change_log_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('change_log', '');
  RETURN NULL;
END
$fn$;
CREATE TRIGGER change_log_notify AFTER INSERT ON change_log
  FOR EACH STATEMENT EXECUTE FUNCTION change_log_notify();
`;

const DOWN = `
${LOGGED_TABLES.map((t) => `DROP TRIGGER ${t}_change_log ON ${t};`).join('\n')}
DROP TABLE change_log;
DROP FUNCTION change_log_notify();
DROP FUNCTION change_log_capture();
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
