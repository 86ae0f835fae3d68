import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { ContentRecord } from './content-record';
import { MediaFile } from './media-file.entity';

/** What a media file is about (a chapter, a verse range, a story...): kept for extensibility. */
@Entity('media_files_targets')
@Index('idx_media_files_targets_media_file_id', ['mediaFileId'])
@Index('idx_media_files_targets_target', ['targetType', 'targetId'])
export class MediaFileTarget extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_media_files_targets' })
  id!: string;

  @Column('text', { name: 'media_file_id' })
  mediaFileId!: string;

  @Column('boolean', { name: 'is_bible_audio', default: true })
  isBibleAudio!: boolean;

  @Column('text', { name: 'target_type' })
  targetType!: string;

  @Column('text', { name: 'target_id' })
  targetId!: string;

  @ManyToOne(() => MediaFile, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'media_file_id',
    foreignKeyConstraintName: 'fk_media_files_targets_media_file_id',
  })
  mediaFile?: Relation<MediaFile>;
}
