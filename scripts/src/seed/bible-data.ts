import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { z } from 'zod';

const verseSchema = z.object({ number: z.number().int().positive(), text: z.string().min(1) });
const chapterSchema = z.object({
  number: z.number().int().positive(),
  verses: z.array(verseSchema).min(1),
});
const bookSchema = z.object({
  osis: z.string().regex(/^[1-3]?[A-Z][A-Za-z]+$/),
  name: z.string().min(1),
  number: z.number().int().positive(),
  testament: z.enum(['OT', 'NT']),
  chapters: z.array(chapterSchema).min(1),
});
const bibleSchema = z.object({
  name: z.string().min(1),
  source: z.string().min(1),
  books: z.array(bookSchema).min(1),
});

export type BibleData = z.infer<typeof bibleSchema>;
export type BibleBook = z.infer<typeof bookSchema>;

/** Content ids: `john`, `john-3`, `john-3-16` (book id = lowercased OSIS id). */
export const bookId = (osis: string): string => osis.toLowerCase();
export const chapterId = (osis: string, chapter: number): string => `${bookId(osis)}-${chapter}`;
export const verseId = (osis: string, chapter: number, verse: number): string =>
  `${chapterId(osis, chapter)}-${verse}`;

/** Reads and validates the gzipped Bible JSON (`data/bible-web.json.gz`). */
export async function loadBible(file: string): Promise<BibleData> {
  let raw: unknown;
  try {
    raw = JSON.parse((await promisify(gunzip)(await readFile(file))).toString('utf8'));
  } catch (error) {
    throw new Error(`cannot read Bible data ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = bibleSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid Bible data in ${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
