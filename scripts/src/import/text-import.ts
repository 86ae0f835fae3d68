import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { loadBibleJson } from './bible-json';
import { connect, inTransaction, invalidateCatalogCache } from './database';
import type { Progress } from './progress';
import { Structure } from './structure';
import { type ParsedBook, SourceError, parseUsfm } from './usfm';

/** What an import says about the version it writes (text and audio alike). */
export interface VersionOptions {
  /** Display name; required when the version is new. */
  name?: string;
  /** Language entity id; required when the version is new. */
  language?: string;
  languageName?: string;
  iso6393?: string;
  bibleVersion: string;
  publish?: boolean;
  /** Recorded as the author in change_log. */
  user: string;
}

export interface TextImportOptions extends VersionOptions {
  databaseUrl: string;
  redisUrl?: string;
  files: string[];
  format?: 'json' | 'usfm';
  textVersion: string;
  source?: string;
  progress: Progress;
}

export interface TextImportSummary {
  books: number;
  verses: number;
  added: { books: number; chapters: number; verses: number };
  verseTexts: { inserted: number; updated: number; deleted: number };
  textVersion: 'created' | 'updated' | 'unchanged';
}

const formatOf = (file: string, forced?: 'json' | 'usfm') =>
  forced ??
  (/\.(usfm|sfm|ptx)$/i.test(file)
    ? 'usfm'
    : /\.json(\.gz)?$|\.gz$/i.test(file)
      ? 'json'
      : undefined);

/** Reads every input file into books (validation errors name the file and line). */
export async function readTextFiles(
  files: string[],
  forced: 'json' | 'usfm' | undefined,
  progress: Progress,
): Promise<{ books: (ParsedBook & { file: string })[]; name?: string; source?: string }> {
  const books: (ParsedBook & { file: string })[] = [];
  let name: string | undefined;
  let source: string | undefined;
  progress.start('reading', files.length);
  for (const file of files) {
    const format = formatOf(file, forced);
    if (!format) {
      throw new SourceError(
        file,
        undefined,
        `unknown format (${extname(file) || 'no extension'}): use --format json|usfm`,
      );
    }
    if (format === 'usfm') {
      books.push({ ...parseUsfm(await readFile(file, 'utf8'), file), file });
    } else {
      const bible = await loadBibleJson(file);
      name ??= bible.name;
      source ??= bible.source;
      books.push(...bible.books.map((b) => ({ ...b, file })));
    }
    progress.tick(file);
  }
  progress.stop();
  const seen = new Map<string, string>();
  for (const b of books) {
    const other = seen.get(b.osis);
    if (other)
      throw new SourceError(b.file, b.line || undefined, `book ${b.osis} is also in ${other}`);
    seen.set(b.osis, b.file);
  }
  return { books, name, source };
}

/**
 * Imports a text version: the catalog rows (language, text version), any structure the
 * translation adds, and its verse texts; in one transaction attributed to the import in
 * change_log. Idempotent: rows that already match are not touched, so a rerun writes nothing.
 * Verse texts of the imported books that the input no longer has are soft-deleted.
 */
export async function importText(options: TextImportOptions): Promise<TextImportSummary> {
  const { progress } = options;
  const input = await readTextFiles(options.files, options.format, progress);
  const client = await connect(options.databaseUrl);
  try {
    const summary = await inTransaction(client, options.user, async () => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('bible-import:text:' || $1))`, [
        options.textVersion,
      ]);
      const version = await upsertTextVersion(client, options, input);
      const structure = await Structure.load(client, version.bibleVersionId);
      await structure.prepareBooks(client, input.books);
      const rows: [string, string, string][] = [];
      progress.start('verses', input.books.length);
      for (const book of input.books) {
        for (const chapter of book.chapters) {
          for (const verse of chapter.verses) {
            const verseId = structure.ensureVerse(book.osis, chapter.number, verse.number);
            rows.push([`${options.textVersion}-${verseId}`, verseId, verse.text]);
          }
        }
        progress.tick(book.osis);
      }
      progress.stop();
      const added = await structure.write(client);
      const written = await client.query<{ inserted: number; updated: number }>(
        `WITH written AS (
           INSERT INTO verse_texts AS t (id, verse_id, text_version_id, verse_text, publish_status)
           SELECT x.id, x.verse_id, $1, x.verse_text, 'published'
             FROM unnest($2::text[], $3::text[], $4::text[]) AS x (id, verse_id, verse_text)
           ON CONFLICT (text_version_id, verse_id) DO UPDATE
             SET verse_text = EXCLUDED.verse_text, deleted_at = NULL
             WHERE t.verse_text IS DISTINCT FROM EXCLUDED.verse_text OR t.deleted_at IS NOT NULL
           RETURNING (xmax = 0) AS inserted)
         SELECT count(*) FILTER (WHERE inserted)::int AS inserted,
                count(*) FILTER (WHERE NOT inserted)::int AS updated FROM written`,
        [options.textVersion, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
      );
      const deleted = await client.query(
        `UPDATE verse_texts vt SET deleted_at = now()
           FROM verses v JOIN chapters c ON c.id = v.chapter_id
          WHERE vt.verse_id = v.id AND vt.text_version_id = $1 AND vt.deleted_at IS NULL
            AND c.book_id = ANY($2::text[]) AND NOT (vt.verse_id = ANY($3::text[]))`,
        [
          options.textVersion,
          input.books.map((b) => structure.bookId(b.osis)),
          rows.map((r) => r[1]),
        ],
      );
      return {
        books: input.books.length,
        verses: rows.length,
        added,
        verseTexts: { ...written.rows[0], deleted: deleted.rowCount ?? 0 },
        textVersion: version.state,
      };
    });
    const changed =
      summary.textVersion !== 'unchanged' ||
      summary.verseTexts.inserted + summary.verseTexts.updated + summary.verseTexts.deleted > 0;
    if (changed) await invalidateCatalogCache(options.databaseUrl, options.redisUrl);
    return summary;
  } finally {
    await client.end();
  }
}

/** Creates or updates the language (when named) and the text version row. */
export async function upsertTextVersion(
  client: import('pg').Client,
  options: Pick<
    TextImportOptions,
    | 'textVersion'
    | 'name'
    | 'source'
    | 'language'
    | 'languageName'
    | 'iso6393'
    | 'bibleVersion'
    | 'publish'
  >,
  input: { name?: string; source?: string } = {},
): Promise<{
  bibleVersionId: string;
  languageId: string;
  state: 'created' | 'updated' | 'unchanged';
}> {
  return upsertVersion(client, 'text_versions', options.textVersion, {
    ...options,
    name: options.name ?? input.name,
    source: options.source ?? input.source,
  });
}

export async function upsertVersion(
  client: import('pg').Client,
  table: 'text_versions' | 'audio_versions',
  id: string,
  options: Omit<VersionOptions, 'user'> & { source?: string },
): Promise<{
  bibleVersionId: string;
  languageId: string;
  state: 'created' | 'updated' | 'unchanged';
}> {
  const existing = await client.query<{
    language_entity_id: string;
    bible_version_id: string;
    name: string;
  }>(`SELECT language_entity_id, bible_version_id, name FROM ${table} WHERE id = $1`, [id]);
  const current = existing.rows[0];
  const languageId = options.language ?? current?.language_entity_id;
  if (!languageId)
    throw new Error(`${table} ${id} does not exist yet: give --language (and --name)`);
  if (current && current.bible_version_id !== options.bibleVersion) {
    throw new Error(
      `${id} follows Bible version ${current.bible_version_id}, not ${options.bibleVersion} (--bible-version)`,
    );
  }
  if (options.languageName) {
    await client.query(
      `INSERT INTO language_entities AS l (id, name, iso_639_3) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, iso_639_3 = coalesce(EXCLUDED.iso_639_3, l.iso_639_3)
       WHERE (l.name, l.iso_639_3) IS DISTINCT FROM (EXCLUDED.name, coalesce(EXCLUDED.iso_639_3, l.iso_639_3))`,
      [languageId, options.languageName, options.iso6393 ?? null],
    );
  }
  const language = await client.query(
    `SELECT 1 FROM language_entities WHERE id = $1 AND deleted_at IS NULL`,
    [languageId],
  );
  if (language.rowCount === 0)
    throw new Error(`language ${languageId} does not exist: add --language-name to create it`);
  const bible = await client.query(
    `SELECT 1 FROM bible_versions WHERE id = $1 AND deleted_at IS NULL`,
    [options.bibleVersion],
  );
  if (bible.rowCount === 0) throw new Error(`Bible version ${options.bibleVersion} does not exist`);
  if (!current && !options.name) throw new Error(`${table} ${id} does not exist yet: give --name`);

  const columns: [string, unknown][] = [
    ['language_entity_id', languageId],
    ['name', options.name ?? current?.name],
  ];
  if (table === 'text_versions' && options.source)
    columns.push(['text_version_source', options.source]);
  if (options.publish) columns.push(['publish_status', 'published']);
  const names = columns.map(([c]) => c);
  const params = [id, options.bibleVersion, ...columns.map(([, v]) => v)];
  const result = await client.query<{ inserted: boolean }>(
    `INSERT INTO ${table} AS v (id, bible_version_id, ${names.join(', ')})
     VALUES ($1, $2, ${names.map((_, i) => `$${i + 3}`).join(', ')})
     ON CONFLICT (id) DO UPDATE SET ${names.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, deleted_at = NULL
     WHERE (${names.map((c) => `v.${c}`).join(', ')}, v.deleted_at IS NULL)
       IS DISTINCT FROM (${names.map((c) => `EXCLUDED.${c}`).join(', ')}, true)
     RETURNING (xmax = 0) AS inserted`,
    params,
  );
  const state =
    result.rowCount === 0 ? 'unchanged' : result.rows[0].inserted ? 'created' : 'updated';
  return { bibleVersionId: options.bibleVersion, languageId, state };
}
