/*
 * Verse timings of a media file, as CSV or JSON: parsing (with line numbers) and validation
 * against the file (inside its duration, in order, no overlap, verses from its range). Shared by
 * PUT /v1/media-files/{id}/verse-timings and the import CLI; pure functions, no I/O.
 */
import { z } from 'zod';

/** One entry of a timings file (a CSV line or a JSON element), before the audio check. */
export interface TimingEntry {
  /** Where the row came from: `line.3` (CSV, 1-based line) or `timings.2` (JSON index). */
  at: string;
  /** 1-based line of the source text, when it has lines. */
  line?: number;
  /** The audio file the row belongs to (folder-level timings files of the import CLI). */
  file?: string;
  verseId?: string;
  verse?: number;
  startSeconds: number;
  durationSeconds: number;
}

export interface TimingIssue {
  /** `line.3.start`, `timings.2.verseId`, `header`, ... (prefix with `body.` for the API). */
  field: string;
  line?: number;
  message: string;
}

export interface ParsedTimings {
  rows: TimingEntry[];
  issues: TimingIssue[];
}

export const MAX_TIMING_ROWS = 5_000;
/** Float slack when comparing times (the database triggers use the same microsecond). */
export const TIME_EPSILON = 0.000_001;

/** Seconds from `12.5`, `1:02.25` (m:ss) or `1:00:02.25` (h:mm:ss); null when malformed. */
export function parseTime(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const match = /^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(text);
  if (!match) return null;
  const [, h, m, s] = match;
  if (Number(s) >= 60 || (h !== undefined && Number(m) >= 60)) return null;
  return Number(h ?? 0) * 3600 + Number(m) * 60 + Number(s);
}

/** RFC 4180 records with the 1-based line each starts on; quotes may span lines. */
export function splitCsv(text: string, delimiter: string): { line: number; cells: string[] }[] {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let startLine = 1;
  let empty = true;
  const source = text.replace(/^\uFEFF/, '');
  const endRecord = () => {
    cells.push(cell);
    if (!(empty && cells.length === 1 && cell.trim() === '')) {
      records.push({ line: startLine, cells });
    }
    cells = [];
    cell = '';
    empty = true;
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (quoted) {
      if (ch === '"') {
        if (source[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
      empty = false;
    } else if (ch === delimiter) {
      cells.push(cell);
      cell = '';
      empty = false;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && source[i + 1] === '\n') i++;
      endRecord();
      line++;
      startLine = line;
    } else {
      if (empty && cells.length === 0 && cell === '') startLine = line;
      cell += ch;
      empty = false;
    }
  }
  if (cell !== '' || cells.length > 0) endRecord();
  return records.filter((r) => !r.cells[0]?.trimStart().startsWith('#'));
}

const COLUMN_ALIASES: Record<string, 'file' | 'verseId' | 'verse' | 'start' | 'end' | 'duration'> =
  {
    file: 'file',
    verse_id: 'verseId',
    verseid: 'verseId',
    verse: 'verse',
    verse_number: 'verse',
    start: 'start',
    start_seconds: 'start',
    start_time_seconds: 'start',
    end: 'end',
    end_seconds: 'end',
    duration: 'duration',
    duration_seconds: 'duration',
  };

type Column = (typeof COLUMN_ALIASES)[string];

function rowFrom(
  at: string,
  line: number | undefined,
  values: Partial<Record<Column, unknown>>,
  issues: TimingIssue[],
  requireFile: boolean,
  fieldName: (column: Column) => string,
): TimingEntry | undefined {
  const problems: TimingIssue[] = [];
  const problem = (column: Column, message: string) =>
    problems.push({ field: `${at}.${fieldName(column)}`, line, message });
  const blank = (v: unknown) => v === undefined || v === null || v === '';

  const row: Partial<TimingEntry> = { at, ...(line !== undefined && { line }) };
  if (requireFile) {
    if (typeof values.file !== 'string' || values.file.trim() === '')
      problem('file', 'is required');
    else row.file = values.file.trim();
  }
  const hasId = !blank(values.verseId);
  const hasNumber = !blank(values.verse);
  if (hasId === hasNumber) {
    problem(hasId ? 'verse' : 'verseId', 'give exactly one of verseId (verse_id) or verse');
  } else if (hasId) {
    const id = String(values.verseId).trim();
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) problem('verseId', 'is not a verse id');
    else row.verseId = id;
  } else {
    const n = Number(typeof values.verse === 'string' ? values.verse.trim() : values.verse);
    if (!Number.isInteger(n) || n < 1) problem('verse', 'must be a positive whole verse number');
    else row.verse = n;
  }
  const start = parseTime(values.start);
  if (blank(values.start)) problem('start', 'is required');
  else if (start === null || start < 0) problem('start', 'must be a time >= 0 (seconds or m:ss)');
  const hasEnd = !blank(values.end);
  const hasDuration = !blank(values.duration);
  if (hasEnd === hasDuration) {
    problem(hasEnd ? 'duration' : 'end', 'give exactly one of end or duration');
  } else if (start !== null && start >= 0) {
    if (hasEnd) {
      const end = parseTime(values.end);
      if (end === null) problem('end', 'must be a time (seconds or m:ss)');
      else if (end <= start) problem('end', `must be after start (${start} s)`);
      else row.durationSeconds = end - start;
    } else {
      const duration = parseTime(values.duration);
      if (duration === null || duration <= 0) problem('duration', 'must be a time > 0');
      else row.durationSeconds = duration;
    }
  }
  if (problems.length > 0) {
    issues.push(...problems);
    return undefined;
  }
  row.startSeconds = start as number;
  return row as TimingEntry;
}

/**
 * Parses CSV (comma, semicolon or tab separated, chosen from the header) with a header row naming
 * the columns: `verse_id` or `verse` (number), `start`, and `end` or `duration` (plus `file` for
 * folder-level timings). Lines starting with `#` are comments.
 */
export function parseTimingsCsv(text: string, options: { requireFile?: boolean } = {}) {
  const issues: TimingIssue[] = [];
  const rows: TimingEntry[] = [];
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes('\t') ? '\t' : firstLine.includes(';') ? ';' : ',';
  const [header, ...records] = splitCsv(text, delimiter);
  if (!header) {
    return { rows, issues: [{ field: 'header', line: 1, message: 'the CSV has no header row' }] };
  }
  const columns = header.cells.map((name) => COLUMN_ALIASES[name.trim().toLowerCase()]);
  header.cells.forEach((name, i) => {
    if (!columns[i]) {
      issues.push({
        field: `line.${header.line}.${name.trim() || `column${i + 1}`}`,
        line: header.line,
        message: `unknown column "${name.trim()}" (expected ${options.requireFile ? 'file, ' : ''}verse_id or verse, start, end or duration)`,
      });
    }
  });
  if (!columns.includes('start')) {
    issues.push({ field: 'header', line: header.line, message: 'the header has no start column' });
  }
  if (issues.length > 0) return { rows, issues };
  if (records.length > MAX_TIMING_ROWS) {
    return {
      rows,
      issues: [{ field: 'body', message: `at most ${MAX_TIMING_ROWS} timings per request` }],
    };
  }
  const names = Object.fromEntries(
    header.cells.map((name, i) => [columns[i], name.trim()]),
  ) as Record<Column, string>;
  for (const record of records) {
    const values: Partial<Record<Column, string>> = {};
    if (record.cells.length > columns.length) {
      issues.push({
        field: `line.${record.line}`,
        line: record.line,
        message: `${record.cells.length} cells, the header has ${columns.length}`,
      });
      continue;
    }
    record.cells.forEach((cell, i) => (values[columns[i]] = cell.trim()));
    const row = rowFrom(
      `line.${record.line}`,
      record.line,
      values,
      issues,
      options.requireFile ?? false,
      (c) => names[c] ?? c,
    );
    if (row) rows.push(row);
  }
  return { rows, issues };
}

const time = z.union([z.number(), z.string()]).describe('seconds, or "m:ss.sss" / "h:mm:ss.sss"');

export const timingJsonRowSchema = z.strictObject({
  verseId: z.string().optional().describe('A verse id, e.g. "john-3-16"'),
  verse: z.number().int().optional().describe("Or the verse number in the file's chapter"),
  start: time,
  end: time.optional(),
  duration: time.optional().describe('Instead of end'),
});

/** JSON body of PUT /v1/media-files/{id}/verse-timings. */
export const timingsJsonSchema = z.strictObject({
  timings: z.array(timingJsonRowSchema).max(MAX_TIMING_ROWS),
});

/** Parses `{ timings: [...] }` (or a bare array, or with `file` per row for the import CLI). */
export function parseTimingsJson(value: unknown, options: { requireFile?: boolean } = {}) {
  const issues: TimingIssue[] = [];
  const rows: TimingEntry[] = [];
  const list = Array.isArray(value) ? value : (value as { timings?: unknown } | null)?.timings;
  const rowSchema = options.requireFile
    ? timingJsonRowSchema.extend({ file: z.string().min(1) })
    : timingJsonRowSchema;
  const shape = z.array(z.unknown()).max(MAX_TIMING_ROWS).safeParse(list);
  if (!shape.success) {
    return {
      rows,
      issues: [
        { field: 'timings', message: `expected an array of at most ${MAX_TIMING_ROWS} timings` },
      ],
    };
  }
  shape.data.forEach((item, i) => {
    const parsed = rowSchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push({
          field: ['timings', i, ...issue.path.map(String)].join('.'),
          message: issue.message,
        });
      }
      return;
    }
    const row = rowFrom(
      `timings.${i}`,
      undefined,
      parsed.data,
      issues,
      options.requireFile ?? false,
      (c) => c,
    );
    if (row) rows.push(row);
  });
  return { rows, issues };
}

export interface TimingVerse {
  id: string;
  number: number;
}

export interface ValidTiming {
  verseId: string;
  startSeconds: number;
  durationSeconds: number;
}

/**
 * Checks parsed rows against their media file: every verse in the file's range (by id, or by
 * number within it), each verse once, rows in verse order and in time order without overlap, and
 * every timing inside the file's duration.
 */
export function validateTimings(
  rows: TimingEntry[],
  file: { durationSeconds: number; verses: TimingVerse[] },
): { timings: ValidTiming[]; issues: TimingIssue[] } {
  const issues: TimingIssue[] = [];
  const byId = new Map(file.verses.map((v) => [v.id, v]));
  const byNumber = new Map(file.verses.map((v) => [v.number, v]));
  const range =
    file.verses.length > 0
      ? `${file.verses[0].id} .. ${file.verses[file.verses.length - 1].id}`
      : 'no verses';
  const seen = new Map<string, string>();
  const timings: ValidTiming[] = [];
  let previous: { row: TimingEntry; verse: TimingVerse } | undefined;
  for (const row of rows) {
    const field = (name: string) => `${row.at}.${name}`;
    const verse = row.verseId !== undefined ? byId.get(row.verseId) : byNumber.get(row.verse ?? 0);
    if (!verse) {
      issues.push({
        field: field(row.verseId !== undefined ? 'verseId' : 'verse'),
        line: row.line,
        message: `verse ${row.verseId ?? row.verse} is not in this media file's range (${range})`,
      });
      continue;
    }
    const end = row.startSeconds + row.durationSeconds;
    if (end > file.durationSeconds + TIME_EPSILON) {
      issues.push({
        field: field('end'),
        line: row.line,
        message: `ends at ${round(end)} s, after the end of the audio (${round(file.durationSeconds)} s)`,
      });
    }
    const duplicate = seen.get(verse.id);
    if (duplicate) {
      issues.push({
        field: field('verse'),
        line: row.line,
        message: `verse ${verse.id} is timed twice (also at ${duplicate})`,
      });
      continue;
    }
    seen.set(verse.id, row.at);
    if (previous) {
      if (verse.number < previous.verse.number) {
        issues.push({
          field: field('verse'),
          line: row.line,
          message: `verse ${verse.id} comes after ${previous.verse.id}: list timings in verse order`,
        });
      }
      const previousEnd = previous.row.startSeconds + previous.row.durationSeconds;
      if (row.startSeconds < previous.row.startSeconds) {
        issues.push({
          field: field('start'),
          line: row.line,
          message: `starts at ${round(row.startSeconds)} s, before the previous timing (${round(previous.row.startSeconds)} s): timings must be in time order`,
        });
      } else if (row.startSeconds < previousEnd - TIME_EPSILON) {
        issues.push({
          field: field('start'),
          line: row.line,
          message: `starts at ${round(row.startSeconds)} s, inside the previous verse ${previous.verse.id} (ends ${round(previousEnd)} s)`,
        });
      }
    }
    previous = { row, verse };
    timings.push({
      verseId: verse.id,
      startSeconds: row.startSeconds,
      durationSeconds: row.durationSeconds,
    });
  }
  return { timings, issues };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
