import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Content tables (the server side of the package DB), users, and the triggers that own the audit
 * columns and keep verse timings inside their media file. Self-contained SQL: later migrations
 * must not change what this one does.
 */

/** Audit columns every content table carries (see ContentRecord). */
const AUDIT = `
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text,
  version integer NOT NULL DEFAULT 1,
  deleted_at timestamptz`;

const CONTENT_TABLES = [
  'regions',
  'language_entities',
  'bible_versions',
  'books',
  'chapters',
  'verses',
  'audio_versions',
  'text_versions',
  'media_files',
  'media_files_verses',
  'media_files_targets',
  'tags',
  'media_files_tags',
  'verse_texts',
];

const PUBLISH = `IN ('draft', 'published', 'archived')`;

const UP = `
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Owns updated_at / updated_by / version: a real UPDATE bumps them, a no-op UPDATE (nothing but
-- bookkeeping changed) leaves the row exactly as it was so it is neither versioned nor logged.
-- The acting user comes from the transaction-local setting bible.user_id when the caller sets it.
-- created_at / created_by and ids never change.
CREATE FUNCTION content_touch() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  actor text := nullif(current_setting('bible.user_id', true), '');
  bookkeeping CONSTANT text[] := ARRAY['updated_at', 'updated_by', 'version'];
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.created_by := coalesce(NEW.created_by, actor);
    NEW.updated_by := coalesce(NEW.updated_by, NEW.created_by);
    RETURN NEW;
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id THEN
    -- Clients and the change feed key rows by id.
    RAISE EXCEPTION 'ids are immutable (% -> %)', OLD.id, NEW.id
      USING ERRCODE = 'feature_not_supported', TABLE = TG_TABLE_NAME;
  END IF;
  NEW.created_at := OLD.created_at;
  NEW.created_by := OLD.created_by;
  IF (to_jsonb(NEW) - bookkeeping) = (to_jsonb(OLD) - bookkeeping) THEN
    NEW.updated_at := OLD.updated_at;
    NEW.updated_by := OLD.updated_by;
    NEW.version := OLD.version;
    RETURN NEW;
  END IF;
  NEW.updated_at := now();
  NEW.updated_by := coalesce(actor, NEW.updated_by);
  NEW.version := OLD.version + 1;
  RETURN NEW;
END
$fn$;

-- updated_at for operational (non-content) tables.
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$fn$;

CREATE TABLE users (
  id text NOT NULL,
  display_name text,
  role text NOT NULL DEFAULT 'user',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_users PRIMARY KEY (id),
  CONSTRAINT chk_users_role CHECK (role IN ('user', 'editor', 'admin'))
);
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE regions (
  id text NOT NULL,
  name text NOT NULL,
  iso_3166_alpha2 text,
  iso_3166_alpha3 text,${AUDIT},
  CONSTRAINT pk_regions PRIMARY KEY (id),
  CONSTRAINT chk_regions_iso_3166_alpha2 CHECK (iso_3166_alpha2 ~ '^[A-Z]{2}$'),
  CONSTRAINT chk_regions_iso_3166_alpha3 CHECK (iso_3166_alpha3 ~ '^[A-Z]{3}$')
);

CREATE TABLE language_entities (
  id text NOT NULL,
  name text NOT NULL,
  iso_639_1 text,
  iso_639_3 text,
  region_id text,${AUDIT},
  CONSTRAINT pk_language_entities PRIMARY KEY (id),
  CONSTRAINT fk_language_entities_region_id FOREIGN KEY (region_id) REFERENCES regions (id),
  CONSTRAINT chk_language_entities_iso_639_1 CHECK (iso_639_1 ~ '^[a-z]{2}$'),
  CONSTRAINT chk_language_entities_iso_639_3 CHECK (iso_639_3 ~ '^[a-z]{3}$')
);
CREATE INDEX idx_language_entities_region_id ON language_entities (region_id);
CREATE INDEX idx_language_entities_iso_639_3 ON language_entities (iso_639_3);
CREATE INDEX idx_language_entities_name_trgm ON language_entities USING gin (name gin_trgm_ops);

CREATE TABLE bible_versions (
  id text NOT NULL,
  name text NOT NULL,
  structure_notes text,
  publish_status text NOT NULL DEFAULT 'draft',${AUDIT},
  CONSTRAINT pk_bible_versions PRIMARY KEY (id),
  CONSTRAINT chk_bible_versions_publish_status CHECK (publish_status ${PUBLISH})
);
CREATE INDEX idx_bible_versions_name_trgm ON bible_versions USING gin (name gin_trgm_ops);

CREATE TABLE books (
  id text NOT NULL,
  name text NOT NULL,
  osis text NOT NULL,
  book_number integer NOT NULL,
  bible_version_id text NOT NULL,
  testament text NOT NULL,${AUDIT},
  CONSTRAINT pk_books PRIMARY KEY (id),
  CONSTRAINT fk_books_bible_version_id FOREIGN KEY (bible_version_id)
    REFERENCES bible_versions (id) ON DELETE CASCADE,
  CONSTRAINT uq_books_bible_version_id_book_number UNIQUE (bible_version_id, book_number),
  CONSTRAINT uq_books_bible_version_id_osis UNIQUE (bible_version_id, osis),
  CONSTRAINT chk_books_testament CHECK (testament IN ('OT', 'NT')),
  CONSTRAINT chk_books_book_number CHECK (book_number > 0)
);

CREATE TABLE chapters (
  id text NOT NULL,
  chapter_number integer NOT NULL,
  book_id text NOT NULL,
  total_verses integer NOT NULL DEFAULT 0,${AUDIT},
  CONSTRAINT pk_chapters PRIMARY KEY (id),
  CONSTRAINT fk_chapters_book_id FOREIGN KEY (book_id) REFERENCES books (id) ON DELETE CASCADE,
  CONSTRAINT uq_chapters_book_id_chapter_number UNIQUE (book_id, chapter_number),
  CONSTRAINT chk_chapters_chapter_number CHECK (chapter_number > 0),
  CONSTRAINT chk_chapters_total_verses CHECK (total_verses >= 0)
);

CREATE TABLE verses (
  id text NOT NULL,
  chapter_id text NOT NULL,
  verse_number integer NOT NULL,${AUDIT},
  CONSTRAINT pk_verses PRIMARY KEY (id),
  CONSTRAINT fk_verses_chapter_id FOREIGN KEY (chapter_id) REFERENCES chapters (id) ON DELETE CASCADE,
  CONSTRAINT uq_verses_chapter_id_verse_number UNIQUE (chapter_id, verse_number),
  CONSTRAINT chk_verses_verse_number CHECK (verse_number > 0)
);

CREATE TABLE audio_versions (
  id text NOT NULL,
  language_entity_id text NOT NULL,
  bible_version_id text NOT NULL,
  project_id text,
  name text NOT NULL,
  publish_status text NOT NULL DEFAULT 'draft',${AUDIT},
  CONSTRAINT pk_audio_versions PRIMARY KEY (id),
  CONSTRAINT fk_audio_versions_language_entity_id FOREIGN KEY (language_entity_id)
    REFERENCES language_entities (id),
  CONSTRAINT fk_audio_versions_bible_version_id FOREIGN KEY (bible_version_id)
    REFERENCES bible_versions (id),
  CONSTRAINT chk_audio_versions_publish_status CHECK (publish_status ${PUBLISH})
);
CREATE INDEX idx_audio_versions_language_entity_id ON audio_versions (language_entity_id);
CREATE INDEX idx_audio_versions_bible_version_id ON audio_versions (bible_version_id);
CREATE INDEX idx_audio_versions_name_trgm ON audio_versions USING gin (name gin_trgm_ops);

CREATE TABLE text_versions (
  id text NOT NULL,
  language_entity_id text NOT NULL,
  bible_version_id text NOT NULL,
  project_id text,
  name text NOT NULL,
  text_version_source text,
  publish_status text NOT NULL DEFAULT 'draft',${AUDIT},
  CONSTRAINT pk_text_versions PRIMARY KEY (id),
  CONSTRAINT fk_text_versions_language_entity_id FOREIGN KEY (language_entity_id)
    REFERENCES language_entities (id),
  CONSTRAINT fk_text_versions_bible_version_id FOREIGN KEY (bible_version_id)
    REFERENCES bible_versions (id),
  CONSTRAINT chk_text_versions_publish_status CHECK (publish_status ${PUBLISH})
);
CREATE INDEX idx_text_versions_language_entity_id ON text_versions (language_entity_id);
CREATE INDEX idx_text_versions_bible_version_id ON text_versions (bible_version_id);
CREATE INDEX idx_text_versions_name_trgm ON text_versions USING gin (name gin_trgm_ops);

CREATE TABLE media_files (
  id text NOT NULL,
  language_entity_id text NOT NULL,
  audio_version_id text,
  project_id text,
  media_type text NOT NULL DEFAULT 'audio',
  remote_path text,
  file_size bigint,
  duration_seconds double precision,
  sha256 text,
  format text,
  bitrate integer,
  sample_rate integer,
  upload_status text NOT NULL DEFAULT 'pending',
  publish_status text NOT NULL DEFAULT 'draft',
  check_status text NOT NULL DEFAULT 'pending',
  start_verse_id text,
  end_verse_id text,
  chapter_id text,
  is_bible_audio boolean NOT NULL DEFAULT true,${AUDIT},
  CONSTRAINT pk_media_files PRIMARY KEY (id),
  CONSTRAINT fk_media_files_language_entity_id FOREIGN KEY (language_entity_id)
    REFERENCES language_entities (id),
  CONSTRAINT fk_media_files_audio_version_id FOREIGN KEY (audio_version_id)
    REFERENCES audio_versions (id) ON DELETE CASCADE,
  CONSTRAINT fk_media_files_chapter_id FOREIGN KEY (chapter_id) REFERENCES chapters (id),
  CONSTRAINT fk_media_files_start_verse_id FOREIGN KEY (start_verse_id) REFERENCES verses (id),
  CONSTRAINT fk_media_files_end_verse_id FOREIGN KEY (end_verse_id) REFERENCES verses (id),
  CONSTRAINT chk_media_files_media_type CHECK (media_type IN ('audio', 'video')),
  CONSTRAINT chk_media_files_format CHECK (format IN ('mp3', 'm4a')),
  CONSTRAINT chk_media_files_upload_status
    CHECK (upload_status IN ('pending', 'uploading', 'completed', 'failed')),
  CONSTRAINT chk_media_files_publish_status CHECK (publish_status ${PUBLISH}),
  CONSTRAINT chk_media_files_check_status CHECK (check_status IN ('pending', 'approved', 'rejected')),
  CONSTRAINT chk_media_files_file_size CHECK (file_size >= 0),
  CONSTRAINT chk_media_files_duration_seconds CHECK (duration_seconds > 0),
  CONSTRAINT chk_media_files_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  CONSTRAINT chk_media_files_bitrate CHECK (bitrate > 0),
  CONSTRAINT chk_media_files_sample_rate CHECK (sample_rate > 0),
  CONSTRAINT chk_media_files_completed_upload CHECK (upload_status <> 'completed' OR (
    remote_path IS NOT NULL AND file_size IS NOT NULL AND duration_seconds IS NOT NULL
    AND sha256 IS NOT NULL)),
  CONSTRAINT chk_media_files_published_upload
    CHECK (publish_status <> 'published' OR upload_status = 'completed')
);
CREATE INDEX idx_media_files_audio_version_id_chapter_id ON media_files (audio_version_id, chapter_id);
CREATE INDEX idx_media_files_language_entity_id ON media_files (language_entity_id);
CREATE INDEX idx_media_files_chapter_id ON media_files (chapter_id);
CREATE INDEX idx_media_files_start_verse_id ON media_files (start_verse_id);
CREATE INDEX idx_media_files_end_verse_id ON media_files (end_verse_id);

CREATE TABLE verse_texts (
  id text NOT NULL,
  verse_id text NOT NULL,
  text_version_id text NOT NULL,
  verse_text text NOT NULL,
  publish_status text NOT NULL DEFAULT 'draft',${AUDIT},
  CONSTRAINT pk_verse_texts PRIMARY KEY (id),
  CONSTRAINT fk_verse_texts_verse_id FOREIGN KEY (verse_id) REFERENCES verses (id),
  CONSTRAINT fk_verse_texts_text_version_id FOREIGN KEY (text_version_id)
    REFERENCES text_versions (id) ON DELETE CASCADE,
  CONSTRAINT uq_verse_texts_text_version_id_verse_id UNIQUE (text_version_id, verse_id),
  CONSTRAINT chk_verse_texts_publish_status CHECK (publish_status ${PUBLISH})
);
CREATE INDEX idx_verse_texts_verse_id ON verse_texts (verse_id);

CREATE TABLE media_files_verses (
  id text NOT NULL,
  media_file_id text NOT NULL,
  verse_id text NOT NULL,
  start_time_seconds double precision NOT NULL,
  duration_seconds double precision NOT NULL,
  verse_text_id text,${AUDIT},
  CONSTRAINT pk_media_files_verses PRIMARY KEY (id),
  CONSTRAINT fk_media_files_verses_media_file_id FOREIGN KEY (media_file_id)
    REFERENCES media_files (id) ON DELETE CASCADE,
  CONSTRAINT fk_media_files_verses_verse_id FOREIGN KEY (verse_id) REFERENCES verses (id),
  CONSTRAINT fk_media_files_verses_verse_text_id FOREIGN KEY (verse_text_id)
    REFERENCES verse_texts (id) ON DELETE SET NULL,
  CONSTRAINT uq_media_files_verses_media_file_id_verse_id UNIQUE (media_file_id, verse_id),
  CONSTRAINT chk_media_files_verses_start_time_seconds CHECK (start_time_seconds >= 0),
  CONSTRAINT chk_media_files_verses_duration_seconds CHECK (duration_seconds > 0)
);
CREATE INDEX idx_media_files_verses_media_file_id_start_time
  ON media_files_verses (media_file_id, start_time_seconds);
CREATE INDEX idx_media_files_verses_verse_id ON media_files_verses (verse_id);
CREATE INDEX idx_media_files_verses_verse_text_id ON media_files_verses (verse_text_id);

CREATE TABLE media_files_targets (
  id text NOT NULL,
  media_file_id text NOT NULL,
  is_bible_audio boolean NOT NULL DEFAULT true,
  target_type text NOT NULL,
  target_id text NOT NULL,${AUDIT},
  CONSTRAINT pk_media_files_targets PRIMARY KEY (id),
  CONSTRAINT fk_media_files_targets_media_file_id FOREIGN KEY (media_file_id)
    REFERENCES media_files (id) ON DELETE CASCADE
);
CREATE INDEX idx_media_files_targets_media_file_id ON media_files_targets (media_file_id);
CREATE INDEX idx_media_files_targets_target ON media_files_targets (target_type, target_id);

CREATE TABLE tags (
  id text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,${AUDIT},
  CONSTRAINT pk_tags PRIMARY KEY (id),
  CONSTRAINT uq_tags_key_value UNIQUE (key, value)
);

CREATE TABLE media_files_tags (
  id text NOT NULL,
  media_file_id text NOT NULL,
  tag_id text NOT NULL,${AUDIT},
  CONSTRAINT pk_media_files_tags PRIMARY KEY (id),
  CONSTRAINT fk_media_files_tags_media_file_id FOREIGN KEY (media_file_id)
    REFERENCES media_files (id) ON DELETE CASCADE,
  CONSTRAINT fk_media_files_tags_tag_id FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE,
  CONSTRAINT uq_media_files_tags_media_file_id_tag_id UNIQUE (media_file_id, tag_id)
);
CREATE INDEX idx_media_files_tags_tag_id ON media_files_tags (tag_id);

${CONTENT_TABLES.map(
  (t) =>
    `CREATE TRIGGER ${t}_touch BEFORE INSERT OR UPDATE ON ${t}\n  FOR EACH ROW EXECUTE FUNCTION content_touch();`,
).join('\n')}

-- Verse timings must lie inside their media file: start + duration <= the file's duration (a
-- microsecond of slack absorbs float rounding). Checked from both sides (a timing written, a file's
-- duration changed) by constraint triggers, deferrable so a file and its timings can be replaced
-- together in one transaction with SET CONSTRAINTS ... DEFERRED. Soft-deleted timings are exempt.
CREATE FUNCTION media_files_verses_within_file() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  file_duration double precision;
BEGIN
  IF NEW.deleted_at IS NOT NULL THEN
    RETURN NULL;
  END IF;
  -- FOR SHARE: a concurrent transaction cannot shorten the file until this one ends.
  SELECT duration_seconds INTO file_duration FROM media_files WHERE id = NEW.media_file_id FOR SHARE;
  IF file_duration IS NULL
     OR NEW.start_time_seconds + NEW.duration_seconds > file_duration + 0.000001 THEN
    RAISE EXCEPTION 'verse timing % (% s + % s) is outside media file % (duration % s)',
      NEW.id, NEW.start_time_seconds, NEW.duration_seconds, NEW.media_file_id, file_duration
      USING ERRCODE = 'check_violation', CONSTRAINT = 'media_files_verses_within_file',
        TABLE = 'media_files_verses';
  END IF;
  RETURN NULL;
END
$fn$;
CREATE CONSTRAINT TRIGGER media_files_verses_within_file
  AFTER INSERT OR UPDATE ON media_files_verses
  DEFERRABLE INITIALLY IMMEDIATE
  FOR EACH ROW EXECUTE FUNCTION media_files_verses_within_file();

CREATE FUNCTION media_files_timings_within_file() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  offending text;
BEGIN
  SELECT v.id INTO offending FROM media_files_verses v
   WHERE v.media_file_id = NEW.id AND v.deleted_at IS NULL
     AND (NEW.duration_seconds IS NULL
          OR v.start_time_seconds + v.duration_seconds > NEW.duration_seconds + 0.000001)
   LIMIT 1;
  IF offending IS NOT NULL THEN
    RAISE EXCEPTION 'media file % duration % s no longer covers verse timing %',
      NEW.id, NEW.duration_seconds, offending
      USING ERRCODE = 'check_violation', CONSTRAINT = 'media_files_verses_within_file',
        TABLE = 'media_files';
  END IF;
  RETURN NULL;
END
$fn$;
CREATE CONSTRAINT TRIGGER media_files_timings_within_file
  AFTER UPDATE OF duration_seconds ON media_files
  DEFERRABLE INITIALLY IMMEDIATE
  FOR EACH ROW WHEN (NEW.duration_seconds IS DISTINCT FROM OLD.duration_seconds)
  EXECUTE FUNCTION media_files_timings_within_file();
`;

const DOWN = `
DROP TABLE media_files_tags, tags, media_files_targets, media_files_verses, verse_texts,
  media_files, text_versions, audio_versions, verses, chapters, books, bible_versions,
  language_entities, regions, users;
DROP FUNCTION media_files_timings_within_file();
DROP FUNCTION media_files_verses_within_file();
DROP FUNCTION set_updated_at();
DROP FUNCTION content_touch();
`;

export class ContentSchema1795300000000 implements MigrationInterface {
  name = 'ContentSchema1795300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // pg_trgm stays: it is created by the superuser beforehand and may serve others.
    await queryRunner.query(DOWN);
  }
}
