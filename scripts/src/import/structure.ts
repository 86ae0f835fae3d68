import type { Client } from 'pg';
import { upsertRows } from '../seed/upsert';

export interface BookInfo {
  osis: string;
  name: string;
  number: number;
  testament: 'OT' | 'NT';
}

/**
 * The books, chapters and verses of one Bible version (the structure every text and audio version
 * of it shares). Imports look rows up by their natural keys (OSIS id, chapter and verse numbers)
 * and add what a translation has and the structure lacks; new ids follow the seed's convention
 * (`john`, `john-3`, `john-3-16`; a book id another version already uses gets the version as
 * prefix).
 */
export class Structure {
  private readonly books = new Map<string, { id: string; number: number }>();
  private readonly chapters = new Map<string, string>();
  private readonly verses = new Map<string, string>();
  private readonly newBooks: unknown[][] = [];
  private readonly newChapters: unknown[][] = [];
  private readonly newVerses: unknown[][] = [];
  private readonly touchedChapters = new Set<string>();

  private constructor(readonly bibleVersionId: string) {}

  static async load(client: Client, bibleVersionId: string): Promise<Structure> {
    const s = new Structure(bibleVersionId);
    const books = await client.query<{ id: string; osis: string; book_number: number }>(
      `SELECT id, osis, book_number FROM books WHERE bible_version_id = $1 AND deleted_at IS NULL`,
      [bibleVersionId],
    );
    for (const b of books.rows)
      s.books.set(b.osis.toLowerCase(), { id: b.id, number: b.book_number });
    const ids = books.rows.map((b) => b.id);
    const chapters = await client.query<{ id: string; book_id: string; chapter_number: number }>(
      `SELECT id, book_id, chapter_number FROM chapters WHERE book_id = ANY($1::text[]) AND deleted_at IS NULL`,
      [ids],
    );
    for (const c of chapters.rows) s.chapters.set(`${c.book_id}:${c.chapter_number}`, c.id);
    const verses = await client.query<{ id: string; chapter_id: string; verse_number: number }>(
      `SELECT v.id, v.chapter_id, v.verse_number FROM verses v JOIN chapters c ON c.id = v.chapter_id
        WHERE c.book_id = ANY($1::text[]) AND v.deleted_at IS NULL`,
      [ids],
    );
    for (const v of verses.rows) s.verses.set(`${v.chapter_id}:${v.verse_number}`, v.id);
    return s;
  }

  /** Gives every input book an id (existing, or a new one that no other version uses). */
  async prepareBooks(client: Client, books: BookInfo[]): Promise<void> {
    const missing = books.filter((b) => !this.books.has(b.osis.toLowerCase()));
    if (missing.length === 0) return;
    const taken = await client.query<{ id: string }>(
      `SELECT id FROM books WHERE id = ANY($1::text[])`,
      [missing.map((b) => b.osis.toLowerCase())],
    );
    const used = new Set(taken.rows.map((r) => r.id));
    for (const b of missing) {
      const plain = b.osis.toLowerCase();
      const id = used.has(plain) ? `${this.bibleVersionId}-${plain}` : plain;
      this.books.set(plain, { id, number: b.number });
      this.newBooks.push([id, b.name, b.osis, b.number, this.bibleVersionId, b.testament]);
    }
  }

  bookId(osis: string): string | undefined {
    return this.books.get(osis.toLowerCase())?.id;
  }

  chapterId(osis: string, chapter: number): string | undefined {
    const book = this.bookId(osis);
    return book ? this.chapters.get(`${book}:${chapter}`) : undefined;
  }

  /** The verse id, adding the chapter and verse to the structure when they are new. */
  ensureVerse(osis: string, chapter: number, verse: number): string {
    const book = this.bookId(osis);
    if (!book) throw new Error(`book ${osis} was not prepared`);
    let chapterId = this.chapters.get(`${book}:${chapter}`);
    if (!chapterId) {
      chapterId = `${book}-${chapter}`;
      this.chapters.set(`${book}:${chapter}`, chapterId);
      this.newChapters.push([chapterId, chapter, book, 0]);
    }
    let verseId = this.verses.get(`${chapterId}:${verse}`);
    if (!verseId) {
      verseId = `${chapterId}-${verse}`;
      this.verses.set(`${chapterId}:${verse}`, verseId);
      this.newVerses.push([verseId, chapterId, verse]);
      this.touchedChapters.add(chapterId);
    }
    return verseId;
  }

  /** Verse ids of a chapter in verse order. */
  chapterVerses(chapterId: string): { id: string; number: number }[] {
    const out: { id: string; number: number }[] = [];
    for (const [key, id] of this.verses) {
      const at = key.lastIndexOf(':');
      if (key.slice(0, at) === chapterId) out.push({ id, number: Number(key.slice(at + 1)) });
    }
    return out.sort((a, b) => a.number - b.number);
  }

  /** Writes the additions (inside the caller's transaction); returns how many rows were added. */
  async write(client: Client): Promise<{ books: number; chapters: number; verses: number }> {
    const t = (name: string) => ({ name, type: 'text' });
    const i = (name: string) => ({ name, type: 'int4' });
    const books = await upsertRows(
      client,
      'books',
      [t('id'), t('name'), t('osis'), i('book_number'), t('bible_version_id'), t('testament')],
      this.newBooks,
    );
    const chapters = await upsertRows(
      client,
      'chapters',
      [t('id'), i('chapter_number'), t('book_id'), i('total_verses')],
      this.newChapters,
    );
    const verses = await upsertRows(
      client,
      'verses',
      [t('id'), t('chapter_id'), i('verse_number')],
      this.newVerses,
    );
    if (this.touchedChapters.size > 0) {
      await client.query(
        `UPDATE chapters c SET total_verses = x.n
           FROM (SELECT chapter_id, count(*)::int AS n FROM verses
                  WHERE chapter_id = ANY($1::text[]) AND deleted_at IS NULL GROUP BY chapter_id) x
          WHERE c.id = x.chapter_id AND c.total_verses <> x.n`,
        [[...this.touchedChapters]],
      );
    }
    return { books: books.inserted, chapters: chapters.inserted, verses: verses.inserted };
  }
}
