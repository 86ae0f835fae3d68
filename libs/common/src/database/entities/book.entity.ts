import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';
import type { Relation } from 'typeorm';
import { TESTAMENTS, sqlIn, type Testament } from '../constants';
import { BibleVersion } from './bible-version.entity';
import { ContentRecord } from './content-record';

/** A book of one Bible version; `id` is the lowercased OSIS id (`john`), `osis` the original (`John`). */
@Entity('books')
@Unique('uq_books_bible_version_id_book_number', ['bibleVersionId', 'bookNumber'])
@Unique('uq_books_bible_version_id_osis', ['bibleVersionId', 'osis'])
@Check('chk_books_testament', sqlIn('testament', TESTAMENTS))
@Check('chk_books_book_number', `"book_number" > 0`)
export class Book extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_books' })
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  osis!: string;

  @Column('integer', { name: 'book_number' })
  bookNumber!: number;

  @Column('text', { name: 'bible_version_id' })
  bibleVersionId!: string;

  @Column('text')
  testament!: Testament;

  @ManyToOne(() => BibleVersion, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'bible_version_id', foreignKeyConstraintName: 'fk_books_bible_version_id' })
  bibleVersion?: Relation<BibleVersion>;
}
