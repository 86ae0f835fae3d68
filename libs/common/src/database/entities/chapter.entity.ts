import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';
import type { Relation } from 'typeorm';
import { Book } from './book.entity';
import { ContentRecord } from './content-record';

/** `id` like `john-3`. */
@Entity('chapters')
@Unique('uq_chapters_book_id_chapter_number', ['bookId', 'chapterNumber'])
@Check('chk_chapters_chapter_number', `"chapter_number" > 0`)
@Check('chk_chapters_total_verses', `"total_verses" >= 0`)
export class Chapter extends ContentRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_chapters' })
  id!: string;

  @Column('integer', { name: 'chapter_number' })
  chapterNumber!: number;

  @Column('text', { name: 'book_id' })
  bookId!: string;

  @Column('integer', { name: 'total_verses', default: 0 })
  totalVerses!: number;

  @ManyToOne(() => Book, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'book_id', foreignKeyConstraintName: 'fk_chapters_book_id' })
  book?: Relation<Book>;
}
