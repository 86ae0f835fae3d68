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
import { PUBLISH_STATUSES, sqlIn, type PublishStatus } from '../constants';
import { ContentRecord } from './content-record';
import { TextVersion } from './text-version.entity';
import { Verse } from './verse.entity';

/** One verse of one text version; the unique (text_version_id, verse_id) also serves lookups. */
@Entity('verse_texts')
@Unique('uq_verse_texts_text_version_id_verse_id', ['textVersionId', 'verseId'])
@Check('chk_verse_texts_publish_status', sqlIn('publish_status', PUBLISH_STATUSES))
@Index('idx_verse_texts_verse_id', ['verseId'])
// GIN index on to_tsvector('simple', verse_text) for full-text search; an expression index the
// migration owns (TypeORM cannot express it), so the schema builder leaves it alone.
@Index('idx_verse_texts_search', { synchronize: false })
export class VerseText extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_verse_texts' })
  id!: string;

  @Column('text', { name: 'verse_id' })
  verseId!: string;

  @Column('text', { name: 'text_version_id' })
  textVersionId!: string;

  @Column('text', { name: 'verse_text' })
  verseText!: string;

  @Column('text', { name: 'publish_status', default: 'draft' })
  publishStatus!: PublishStatus;

  @ManyToOne(() => Verse, { nullable: false })
  @JoinColumn({ name: 'verse_id', foreignKeyConstraintName: 'fk_verse_texts_verse_id' })
  verse?: Relation<Verse>;

  @ManyToOne(() => TextVersion, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'text_version_id',
    foreignKeyConstraintName: 'fk_verse_texts_text_version_id',
  })
  textVersion?: Relation<TextVersion>;
}
