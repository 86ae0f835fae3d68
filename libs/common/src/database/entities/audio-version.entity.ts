import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { PUBLISH_STATUSES, sqlIn, type PublishStatus } from '../constants';
import { BibleVersion } from './bible-version.entity';
import { ContentRecord } from './content-record';
import { LanguageEntity } from './language-entity.entity';

@Entity('audio_versions')
@Check('chk_audio_versions_publish_status', sqlIn('publish_status', PUBLISH_STATUSES))
@Index('idx_audio_versions_language_entity_id', ['languageEntityId'])
@Index('idx_audio_versions_bible_version_id', ['bibleVersionId'])
@Index('idx_audio_versions_name_trgm', { synchronize: false })
export class AudioVersion extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_audio_versions' })
  id!: string;

  @Column('text', { name: 'language_entity_id' })
  languageEntityId!: string;

  @Column('text', { name: 'bible_version_id' })
  bibleVersionId!: string;

  @Column('text', { name: 'project_id', nullable: true })
  projectId!: string | null;

  @Column('text')
  name!: string;

  @Column('text', { name: 'publish_status', default: 'draft' })
  publishStatus!: PublishStatus;

  @ManyToOne(() => LanguageEntity, { nullable: false })
  @JoinColumn({
    name: 'language_entity_id',
    foreignKeyConstraintName: 'fk_audio_versions_language_entity_id',
  })
  languageEntity?: Relation<LanguageEntity>;

  @ManyToOne(() => BibleVersion, { nullable: false })
  @JoinColumn({
    name: 'bible_version_id',
    foreignKeyConstraintName: 'fk_audio_versions_bible_version_id',
  })
  bibleVersion?: Relation<BibleVersion>;
}
