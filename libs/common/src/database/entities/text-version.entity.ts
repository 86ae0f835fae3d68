import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { PUBLISH_STATUSES, sqlIn, type PublishStatus } from '../constants';
import { BibleVersion } from './bible-version.entity';
import { ContentRecord } from './content-record';
import { LanguageEntity } from './language-entity.entity';

@Entity('text_versions')
@Check('chk_text_versions_publish_status', sqlIn('publish_status', PUBLISH_STATUSES))
@Index('idx_text_versions_language_entity_id', ['languageEntityId'])
@Index('idx_text_versions_bible_version_id', ['bibleVersionId'])
@Index('idx_text_versions_name_trgm', { synchronize: false })
export class TextVersion extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_text_versions' })
  id!: string;

  @Column('text', { name: 'language_entity_id' })
  languageEntityId!: string;

  @Column('text', { name: 'bible_version_id' })
  bibleVersionId!: string;

  @Column('text', { name: 'project_id', nullable: true })
  projectId!: string | null;

  @Column('text')
  name!: string;

  @Column('text', { name: 'text_version_source', nullable: true })
  textVersionSource!: string | null;

  @Column('text', { name: 'publish_status', default: 'draft' })
  publishStatus!: PublishStatus;

  @ManyToOne(() => LanguageEntity, { nullable: false })
  @JoinColumn({
    name: 'language_entity_id',
    foreignKeyConstraintName: 'fk_text_versions_language_entity_id',
  })
  languageEntity?: Relation<LanguageEntity>;

  @ManyToOne(() => BibleVersion, { nullable: false })
  @JoinColumn({
    name: 'bible_version_id',
    foreignKeyConstraintName: 'fk_text_versions_bible_version_id',
  })
  bibleVersion?: Relation<BibleVersion>;
}
