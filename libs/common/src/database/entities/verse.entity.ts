import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';
import type { Relation } from 'typeorm';
import { Chapter } from './chapter.entity';
import { ContentRecord } from './content-record';

/** `id` like `john-3-16`. */
@Entity('verses')
@Unique('uq_verses_chapter_id_verse_number', ['chapterId', 'verseNumber'])
@Check('chk_verses_verse_number', `"verse_number" > 0`)
export class Verse extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_verses' })
  id!: string;

  @Column('text', { name: 'chapter_id' })
  chapterId!: string;

  @Column('integer', { name: 'verse_number' })
  verseNumber!: number;

  @ManyToOne(() => Chapter, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'chapter_id', foreignKeyConstraintName: 'fk_verses_chapter_id' })
  chapter?: Relation<Chapter>;
}
