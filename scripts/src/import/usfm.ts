/*
 * A small USFM reader for the markers a Bible text import needs: \id (book), \c, \v (with
 * ranges), paragraph and poetry markers (text flows on), headings, titles and introductions
 * (skipped), notes \f \fe \x and figures \fig (removed), character styles such as \wj \add \nd
 * \w (text kept, |attributes dropped). Errors carry the line they refer to.
 */
import { bookByUsfm } from './books';

export class SourceError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    message: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`);
    this.name = 'SourceError';
  }
}

export interface ParsedVerse {
  number: number;
  text: string;
  line: number;
}
export interface ParsedChapter {
  number: number;
  verses: ParsedVerse[];
  line: number;
}
export interface ParsedBook {
  osis: string;
  name: string;
  number: number;
  testament: 'OT' | 'NT';
  chapters: ParsedChapter[];
  line: number;
}

/** Markers whose content runs to the end of the line and is not verse text. */
const LINE_MARKERS =
  /^(id|ide|sts|rem|h|toc\d?|toca\d?|mt\d?|mte\d?|ms\d?|mr|s\d?|sr|r|sp|d|sd\d?|cl|cd|cp|ca|va|vp|is\d?|ip|ipi|im|imi|ipq|imq|ipr|iq\d?|ib|ili\d?|iot|io\d?|iex|imte\d?|ie|lit|restore|periph)$/;
/** Markers whose content up to the closing marker is removed (notes, figures). */
const NOTE_MARKERS = /^(f|fe|x|fig|ef|ex)$/;

export function parseUsfm(text: string, file: string): ParsedBook {
  const fail = (line: number | undefined, message: string): never => {
    throw new SourceError(file, line, message);
  };
  let line = 1;
  let lineAt = 0;
  const lineOf = (index: number) => {
    for (; lineAt < index; lineAt++) if (text.charCodeAt(lineAt) === 10) line++;
    return line;
  };

  let book: ParsedBook | undefined;
  let shortName: string | undefined;
  let chapter: ParsedChapter | undefined;
  let verse: ParsedVerse | undefined;
  let noteDepth: string | undefined;
  const markerRe = /\\(\+?)([A-Za-z]+\d*)(\*?)/g;
  let cursor = 0;

  const addText = (segment: string) => {
    if (!verse || noteDepth) return;
    // Character-style attributes: "word|lemma=..." keeps "word".
    verse.text += segment.replace(/\|[^\\]*$/, '');
  };
  const finishVerse = () => {
    if (!verse || !chapter) return;
    verse.text = verse.text.replace(/\s+/g, ' ').trim();
    if (verse.text === '') fail(verse.line, `verse ${chapter.number}:${verse.number} has no text`);
    chapter.verses.push(verse);
    verse = undefined;
  };

  for (let match = markerRe.exec(text); match; match = markerRe.exec(text)) {
    addText(text.slice(cursor, match.index));
    cursor = markerRe.lastIndex;
    const [, , name, closing] = match;
    const at = lineOf(match.index);
    if (noteDepth) {
      if (closing && name === noteDepth) noteDepth = undefined;
      continue;
    }
    if (NOTE_MARKERS.test(name) && !closing) {
      noteDepth = name;
      continue;
    }
    if (closing) continue; // end of a character style: its text was kept
    const restOfLine = () => {
      const end = text.indexOf('\n', cursor);
      const value = text.slice(cursor, end < 0 ? text.length : end).trim();
      cursor = end < 0 ? text.length : end;
      markerRe.lastIndex = cursor;
      return value;
    };
    if (name === 'id') {
      const code = restOfLine().split(/\s+/)[0] ?? '';
      if (book) fail(at, 'a second \\id: one book per USFM file');
      const canon = bookByUsfm(code) ?? fail(at, `unknown book code "${code}" in \\id`);
      book = { ...canon, chapters: [], line: at };
      continue;
    }
    if (name === 'h' || name === 'toc2') {
      shortName ??= restOfLine() || undefined;
      continue;
    }
    if (name === 'c') {
      if (!book) fail(at, '\\c before \\id');
      const value = restOfLine();
      const number = /^\d+$/.test(value)
        ? Number(value)
        : fail(at, `\\c needs a chapter number, got "${value}"`);
      finishVerse();
      if (book!.chapters.some((c) => c.number === number))
        fail(at, `chapter ${number} appears twice`);
      chapter = { number, verses: [], line: at };
      book!.chapters.push(chapter);
      continue;
    }
    if (name === 'v') {
      if (!chapter) fail(at, '\\v before the first \\c');
      const m = /^\s*(\d+)(?:-(\d+))?[a-z]?\s?/.exec(text.slice(cursor));
      if (!m) fail(at, '\\v needs a verse number');
      cursor += m![0].length;
      markerRe.lastIndex = cursor;
      finishVerse();
      const number = Number(m![1]);
      if (chapter!.verses.some((v) => v.number === number)) {
        fail(at, `verse ${chapter!.number}:${number} appears twice`);
      }
      verse = { number, text: '', line: at };
      continue;
    }
    if (LINE_MARKERS.test(name)) {
      restOfLine();
      continue;
    }
    // Paragraph, poetry and character markers: the text flows on.
    if (verse) verse.text += ' ';
  }
  addText(text.slice(cursor));
  if (noteDepth) fail(lineOf(text.length), `\\${noteDepth} is never closed with \\${noteDepth}*`);
  finishVerse();
  if (!book) fail(1, 'no \\id line: not a USFM book');
  if (book!.chapters.length === 0) fail(book!.line, 'the book has no chapters');
  for (const c of book!.chapters) {
    if (c.verses.length === 0) fail(c.line, `chapter ${c.number} has no verses`);
  }
  if (shortName) book!.name = shortName;
  return book!;
}
