/*
 * The Bible JSON shape of data/bible-web.json.gz (optionally gzipped): { name, source, books: [{
 * osis, name, number, testament, chapters: [{ number, verses: [{ number, text }] }] }] }.
 * Validation errors name the file and the line of the offending value.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import type { ParsedBook } from './usfm';
import { SourceError } from './usfm';

const verseSchema = z.strictObject({
  number: z.number().int().positive(),
  text: z.string().trim().min(1),
});
const chapterSchema = z.strictObject({
  number: z.number().int().positive(),
  verses: z.array(verseSchema).min(1),
});
const bookSchema = z.strictObject({
  osis: z.string().regex(/^[1-4]?[A-Z][A-Za-z]+$/, 'must be an OSIS book id such as "John"'),
  name: z.string().min(1),
  number: z.number().int().positive(),
  testament: z.enum(['OT', 'NT']),
  chapters: z.array(chapterSchema).min(1),
});
export const bibleJsonSchema = z.object({
  name: z.string().min(1).optional(),
  source: z.string().min(1).optional(),
  books: z.array(bookSchema).min(1),
});

/**
 * The 1-based line where the value at `path` starts in JSON `text` (the closest existing parent
 * when the path runs past the document).
 */
export function lineOfPath(text: string, path: (string | number)[]): number {
  let i = 0;
  let line = 1;
  const ws = () => {
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') break;
    }
  };
  const skipString = () => {
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    i++;
  };
  const readString = () => {
    const start = i;
    skipString();
    return JSON.parse(text.slice(start, i)) as string;
  };
  const skipValue = (): void => {
    ws();
    const c = text[i];
    if (c === '"') return skipString();
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          ws();
          skipString();
          ws();
          i++; // ':'
        }
        skipValue();
        ws();
        if (text[i++] === close) return;
      }
    }
    while (i < text.length && !/[,\]}\s]/.test(text[i])) i++;
  };
  // Descend along the path.
  for (const key of path) {
    ws();
    const here = line;
    const c = text[i];
    if (c === '[' && typeof key === 'number') {
      i++;
      for (let n = 0; n < key; n++) {
        skipValue();
        ws();
        if (text[i] !== ',') return here;
        i++;
      }
      ws();
      if (text[i] === ']') return here;
      continue;
    }
    if (c === '{') {
      i++;
      // Leaves by `break` once the key is found; anything else is not an object holding it.
      for (;;) {
        ws();
        if (text[i] !== '"') return here;
        const name = readString();
        ws();
        i++; // ':'
        if (name === String(key)) break;
        skipValue();
        ws();
        if (text[i++] !== ',') return here;
      }
      continue;
    }
    return here;
  }
  ws();
  return line;
}

/** JSON position → line (for JSON.parse errors that name a position). */
function lineOfPosition(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export interface BibleJson {
  name?: string;
  source?: string;
  books: (ParsedBook & { lineOf: (path: (string | number)[]) => number })[];
}

export async function loadBibleJson(file: string): Promise<BibleJson> {
  let raw = await readFile(file);
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (error) {
      throw new SourceError(file, undefined, `not valid gzip: ${(error as Error).message}`);
    }
  }
  const text = raw.toString('utf8').replace(/^\uFEFF/, '');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    throw new SourceError(
      file,
      position ? lineOfPosition(text, Number(position)) : undefined,
      `invalid JSON: ${message}`,
    );
  }
  const parsed = bibleJsonSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SourceError(
      file,
      lineOfPath(text, issue.path as (string | number)[]),
      `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  const seen = new Map<string, number>();
  parsed.data.books.forEach((book, b) => {
    const duplicate = seen.get(book.osis);
    if (duplicate !== undefined) {
      throw new SourceError(
        file,
        lineOfPath(text, ['books', b, 'osis']),
        `book ${book.osis} appears twice (also books.${duplicate})`,
      );
    }
    seen.set(book.osis, b);
    const chapters = new Set<number>();
    book.chapters.forEach((chapter, c) => {
      if (chapters.has(chapter.number)) {
        throw new SourceError(
          file,
          lineOfPath(text, ['books', b, 'chapters', c, 'number']),
          `${book.osis} chapter ${chapter.number} appears twice`,
        );
      }
      chapters.add(chapter.number);
      const verses = new Set<number>();
      chapter.verses.forEach((verse, v) => {
        if (verses.has(verse.number)) {
          throw new SourceError(
            file,
            lineOfPath(text, ['books', b, 'chapters', c, 'verses', v, 'number']),
            `${book.osis} ${chapter.number}:${verse.number} appears twice`,
          );
        }
        verses.add(verse.number);
      });
    });
  });
  return {
    name: parsed.data.name,
    source: parsed.data.source,
    books: parsed.data.books.map((book, b) => ({
      ...book,
      line: 0,
      chapters: book.chapters.map((c) => ({
        ...c,
        line: 0,
        verses: c.verses.map((v) => ({ ...v, line: 0 })),
      })),
      lineOf: (path) => lineOfPath(text, ['books', b, ...path]),
    })),
  };
}
