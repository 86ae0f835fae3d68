import type {
  AudioFormat,
  CheckStatus,
  MediaType,
  PublishStatus,
  Testament,
  UploadStatus,
} from '@bible/common';

/**
 * One row type per content table, as raw SQL returns it (snake_case columns). Queries that read
 * fewer columns or add computed ones say so with `Pick<…> & {…}` instead of declaring a row of
 * their own, so a column changes in one place.
 */

/** Audit columns of every content table (ContentRecord). */
export interface AuditColumns {
  created_at: Date;
  created_by: string | null;
  updated_at: Date;
  updated_by: string | null;
  version: number;
  deleted_at: Date | null;
}

/** language_entities */
export interface LanguageRow extends AuditColumns {
  id: string;
  name: string;
  iso_639_1: string | null;
  iso_639_3: string | null;
  region_id: string | null;
}

/** bible_versions (a versification: the books, chapters and verses a version follows) */
export interface BibleVersionRow extends AuditColumns {
  id: string;
  name: string;
  structure_notes: string | null;
  publish_status: PublishStatus;
}

/** text_versions and audio_versions share their columns; `text_version_source` is text's alone. */
export interface VersionRow extends AuditColumns {
  id: string;
  language_entity_id: string;
  bible_version_id: string;
  project_id: string | null;
  name: string;
  publish_status: PublishStatus;
  text_version_source?: string | null;
}

/** books */
export interface BookRow extends AuditColumns {
  id: string;
  name: string;
  osis: string;
  book_number: number;
  bible_version_id: string;
  testament: Testament;
}

/** chapters */
export interface ChapterRow extends AuditColumns {
  id: string;
  chapter_number: number;
  book_id: string;
  total_verses: number;
}

/** media_files (`file_size` is a bigint, so pg returns it as a string) */
export interface MediaFileRow extends AuditColumns {
  id: string;
  language_entity_id: string;
  audio_version_id: string | null;
  project_id: string | null;
  media_type: MediaType;
  remote_path: string | null;
  file_size: string | null;
  duration_seconds: number | null;
  sha256: string | null;
  format: AudioFormat | null;
  bitrate: number | null;
  sample_rate: number | null;
  upload_status: UploadStatus;
  publish_status: PublishStatus;
  check_status: CheckStatus;
  start_verse_id: string | null;
  end_verse_id: string | null;
  chapter_id: string | null;
  is_bible_audio: boolean;
}
