import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { PUBLISH_STATUSES, sqlIn, type PublishStatus } from '../constants';
import { ContentRecord } from './content-record';

@Entity('bible_versions')
@Check('chk_bible_versions_publish_status', sqlIn('publish_status', PUBLISH_STATUSES))
@Index('idx_bible_versions_name_trgm', { synchronize: false })
export class BibleVersion extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_bible_versions' })
  id!: string;

  @Column('text')
  name!: string;

  @Column('text', { name: 'structure_notes', nullable: true })
  structureNotes!: string | null;

  @Column('text', { name: 'publish_status', default: 'draft' })
  publishStatus!: PublishStatus;
}
