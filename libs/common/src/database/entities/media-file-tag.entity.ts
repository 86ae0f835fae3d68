import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';
import type { Relation } from 'typeorm';
import { ContentRecord } from './content-record';
import { MediaFile } from './media-file.entity';
import { Tag } from './tag.entity';

@Entity('media_files_tags')
@Unique('uq_media_files_tags_media_file_id_tag_id', ['mediaFileId', 'tagId'])
@Index('idx_media_files_tags_tag_id', ['tagId'])
export class MediaFileTag extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_media_files_tags' })
  id!: string;

  @Column('text', { name: 'media_file_id' })
  mediaFileId!: string;

  @Column('text', { name: 'tag_id' })
  tagId!: string;

  @ManyToOne(() => MediaFile, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'media_file_id',
    foreignKeyConstraintName: 'fk_media_files_tags_media_file_id',
  })
  mediaFile?: Relation<MediaFile>;

  @ManyToOne(() => Tag, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tag_id', foreignKeyConstraintName: 'fk_media_files_tags_tag_id' })
  tag?: Relation<Tag>;
}
