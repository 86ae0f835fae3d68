import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import {
  AUDIO_FORMATS,
  CHECK_STATUSES,
  MEDIA_TYPES,
  PUBLISH_STATUSES,
  UPLOAD_STATUSES,
  sqlIn,
  type AudioFormat,
  type CheckStatus,
  type MediaType,
  type PublishStatus,
  type UploadStatus,
} from '../constants';
import { AudioVersion } from './audio-version.entity';
import { Chapter } from './chapter.entity';
import { ContentRecord } from './content-record';
import { LanguageEntity } from './language-entity.entity';
import { Verse } from './verse.entity';

/**
 * One audio file in the object store (`remote_path` is its object key). Size, duration and sha256
 * are measured from the stored bytes; a completed upload must carry all of them and only completed
 * uploads can be published.
 */
@Entity('media_files')
@Check('chk_media_files_media_type', sqlIn('media_type', MEDIA_TYPES))
@Check('chk_media_files_format', sqlIn('format', AUDIO_FORMATS))
@Check('chk_media_files_upload_status', sqlIn('upload_status', UPLOAD_STATUSES))
@Check('chk_media_files_publish_status', sqlIn('publish_status', PUBLISH_STATUSES))
@Check('chk_media_files_check_status', sqlIn('check_status', CHECK_STATUSES))
@Check('chk_media_files_file_size', `"file_size" >= 0`)
@Check('chk_media_files_duration_seconds', `"duration_seconds" > 0`)
@Check('chk_media_files_sha256', `"sha256" ~ '^[0-9a-f]{64}$'`)
@Check('chk_media_files_bitrate', `"bitrate" > 0`)
@Check('chk_media_files_sample_rate', `"sample_rate" > 0`)
@Check(
  'chk_media_files_completed_upload',
  `"upload_status" <> 'completed' OR ("remote_path" IS NOT NULL AND "file_size" IS NOT NULL AND "duration_seconds" IS NOT NULL AND "sha256" IS NOT NULL)`,
)
@Check(
  'chk_media_files_published_upload',
  `"publish_status" <> 'published' OR "upload_status" = 'completed'`,
)
@Index('idx_media_files_audio_version_id_chapter_id', ['audioVersionId', 'chapterId'])
@Index('idx_media_files_language_entity_id', ['languageEntityId'])
@Index('idx_media_files_chapter_id', ['chapterId'])
@Index('idx_media_files_start_verse_id', ['startVerseId'])
@Index('idx_media_files_end_verse_id', ['endVerseId'])
export class MediaFile extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_media_files' })
  id!: string;

  @Column('text', { name: 'language_entity_id' })
  languageEntityId!: string;

  @Column('text', { name: 'audio_version_id', nullable: true })
  audioVersionId!: string | null;

  @Column('text', { name: 'project_id', nullable: true })
  projectId!: string | null;

  @Column('text', { name: 'media_type', default: 'audio' })
  mediaType!: MediaType;

  /** Object-store key, e.g. `media/<audio_version_id>/john-3.mp3`. */
  @Column('text', { name: 'remote_path', nullable: true })
  remotePath!: string | null;

  /** Bytes (bigint: TypeORM returns it as a string). */
  @Column('bigint', { name: 'file_size', nullable: true })
  fileSize!: string | null;

  @Column('double precision', { name: 'duration_seconds', nullable: true })
  durationSeconds!: number | null;

  /** Hex SHA-256 of the stored bytes. */
  @Column('text', { nullable: true })
  sha256!: string | null;

  @Column('text', { nullable: true })
  format!: AudioFormat | null;

  /** Bits per second. */
  @Column('integer', { nullable: true })
  bitrate!: number | null;

  /** Hz. */
  @Column('integer', { name: 'sample_rate', nullable: true })
  sampleRate!: number | null;

  @Column('text', { name: 'upload_status', default: 'pending' })
  uploadStatus!: UploadStatus;

  @Column('text', { name: 'publish_status', default: 'draft' })
  publishStatus!: PublishStatus;

  @Column('text', { name: 'check_status', default: 'pending' })
  checkStatus!: CheckStatus;

  @Column('text', { name: 'start_verse_id', nullable: true })
  startVerseId!: string | null;

  @Column('text', { name: 'end_verse_id', nullable: true })
  endVerseId!: string | null;

  @Column('text', { name: 'chapter_id', nullable: true })
  chapterId!: string | null;

  @Column('boolean', { name: 'is_bible_audio', default: true })
  isBibleAudio!: boolean;

  @ManyToOne(() => LanguageEntity, { nullable: false })
  @JoinColumn({
    name: 'language_entity_id',
    foreignKeyConstraintName: 'fk_media_files_language_entity_id',
  })
  languageEntity?: Relation<LanguageEntity>;

  @ManyToOne(() => AudioVersion, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'audio_version_id',
    foreignKeyConstraintName: 'fk_media_files_audio_version_id',
  })
  audioVersion?: Relation<AudioVersion>;

  @ManyToOne(() => Chapter, { nullable: true })
  @JoinColumn({ name: 'chapter_id', foreignKeyConstraintName: 'fk_media_files_chapter_id' })
  chapter?: Relation<Chapter>;

  @ManyToOne(() => Verse, { nullable: true })
  @JoinColumn({
    name: 'start_verse_id',
    foreignKeyConstraintName: 'fk_media_files_start_verse_id',
  })
  startVerse?: Relation<Verse>;

  @ManyToOne(() => Verse, { nullable: true })
  @JoinColumn({ name: 'end_verse_id', foreignKeyConstraintName: 'fk_media_files_end_verse_id' })
  endVerse?: Relation<Verse>;
}
