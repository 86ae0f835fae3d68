import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  Unique,
} from 'typeorm';
import type { Relation } from 'typeorm';
import { ContentRecord } from './content-record';
import { MediaFile } from './media-file.entity';
import { Verse } from './verse.entity';
import { VerseText } from './verse-text.entity';

/**
 * Where a verse sits in a media file (server-owned: clients never push timings). The constraint
 * trigger `media_files_verses_within_file` keeps start + duration inside the file's duration.
 */
@Entity('media_files_verses')
@Unique('uq_media_files_verses_media_file_id_verse_id', ['mediaFileId', 'verseId'])
@Check('chk_media_files_verses_start_time_seconds', `"start_time_seconds" >= 0`)
@Check('chk_media_files_verses_duration_seconds', `"duration_seconds" > 0`)
@Index('idx_media_files_verses_media_file_id_start_time', ['mediaFileId', 'startTimeSeconds'])
@Index('idx_media_files_verses_verse_id', ['verseId'])
@Index('idx_media_files_verses_verse_text_id', ['verseTextId'])
export class MediaFileVerse extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_media_files_verses' })
  id!: string;

  @Column('text', { name: 'media_file_id' })
  mediaFileId!: string;

  @Column('text', { name: 'verse_id' })
  verseId!: string;

  @Column('double precision', { name: 'start_time_seconds' })
  startTimeSeconds!: number;

  @Column('double precision', { name: 'duration_seconds' })
  durationSeconds!: number;

  @Column('text', { name: 'verse_text_id', nullable: true })
  verseTextId!: string | null;

  @ManyToOne(() => MediaFile, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'media_file_id',
    foreignKeyConstraintName: 'fk_media_files_verses_media_file_id',
  })
  mediaFile?: Relation<MediaFile>;

  @ManyToOne(() => Verse, { nullable: false })
  @JoinColumn({ name: 'verse_id', foreignKeyConstraintName: 'fk_media_files_verses_verse_id' })
  verse?: Relation<Verse>;

  @ManyToOne(() => VerseText, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({
    name: 'verse_text_id',
    foreignKeyConstraintName: 'fk_media_files_verses_verse_text_id',
  })
  verseText?: Relation<VerseText>;
}
