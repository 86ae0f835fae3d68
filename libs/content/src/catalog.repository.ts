import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@bible/common';
import type { BibleVersionRow, BookRow, ChapterRow, LanguageRow, VersionRow } from './rows';

/** Collects positional parameters and WHERE clauses of one query. */
export class SqlBuilder {
  readonly args: unknown[] = [];
  readonly where: string[] = [];

  param(value: unknown): string {
    this.args.push(value);
    return `$${this.args.length}`;
  }

  and(clause: string): this {
    this.where.push(clause);
    return this;
  }

  get whereSql(): string {
    return this.where.length > 0 ? `WHERE ${this.where.join(' AND ')}` : '';
  }

  clone(): SqlBuilder {
    const copy = new SqlBuilder();
    copy.args.push(...this.args);
    copy.where.push(...this.where);
    return copy;
  }
}

/** Minimum pg_trgm word similarity of a fuzzy match (the `<%` operator). */
export const WORD_SIMILARITY_THRESHOLD = 0.4;

/** `%text%` for ILIKE with the pattern characters escaped. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Fuzzy match of `q` against a name column: a substring match or pg_trgm word similarity (typo
 * tolerant), both served by the GIN trigram index on the column. Returns the filter and a score
 * expression to rank by.
 */
export function fuzzyMatch(sql: SqlBuilder, column: string, q: string): { score: string } {
  const text = sql.param(q);
  const pattern = sql.param(containsPattern(q));
  sql.and(`(${column} ILIKE ${pattern} OR ${text} <% ${column})`);
  return {
    score: `GREATEST(word_similarity(${text}, ${column}), CASE WHEN ${column} ILIKE ${pattern} THEN 0.6 ELSE 0 END)`,
  };
}

/** One page of a list: `limit` rows after the cursor's sort key `k` or offset `o`. */
export interface ListSpec {
  limit: number;
  cursor?: { k?: (string | number)[]; o?: number };
}

export type LanguageListing = Pick<
  LanguageRow,
  'id' | 'name' | 'iso_639_1' | 'iso_639_3' | 'region_id'
> & { text_version_count: number; audio_version_count: number };

export type BibleVersionListing = Pick<
  BibleVersionRow,
  'id' | 'name' | 'structure_notes' | 'publish_status'
> & { book_count: number };

/** A text or audio version with its language's name (`text_version_source` for text only). */
export type VersionListing = Pick<
  VersionRow,
  | 'id'
  | 'name'
  | 'language_entity_id'
  | 'bible_version_id'
  | 'publish_status'
  | 'updated_at'
  | 'text_version_source'
> & { language_name: string };

/** A book with the version's content in it: verses (text) or files and duration (audio). */
export type BookListing = Pick<BookRow, 'id' | 'osis' | 'name' | 'book_number' | 'testament'> & {
  chapter_count: number;
  verse_count?: number;
  media_file_count?: number;
  duration_seconds?: number | null;
};

/** A chapter with the version's content in it: its verse count (text) or files (audio). */
export type ChapterListing = Pick<ChapterRow, 'id' | 'chapter_number' | 'total_verses'> & {
  verse_count?: number;
  media_files?: {
    id: string;
    durationSeconds: number | null;
    fileSize: number | null;
    format: string | null;
    publishStatus: string;
    timingCount: number;
  }[];
};

export interface SearchHit {
  verse_id: string;
  verse_text: string;
  rank: number;
  book_id: string;
  osis: string;
  book_name: string;
  chapter_number: number;
  verse_number: number;
  snippet: string;
  total: number;
}

const published = (alias: string, all: boolean) =>
  all
    ? `${alias}.deleted_at IS NULL`
    : `${alias}.deleted_at IS NULL AND ${alias}.publish_status = 'published'`;

/** SQL behind the catalog: set-based, index-backed, one page (limit + 1 rows) per query. */
@Injectable()
export class CatalogRepository {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  /**
   * Runs a list query: keyset order by (name, id) without `q`, score order with an offset
   * cursor with it. Returns limit + 1 rows and the total matching rows.
   */
  private async list<R>(
    select: string,
    from: string,
    sql: SqlBuilder,
    spec: ListSpec,
    nameColumn: string,
    idColumn: string,
    score?: string,
  ): Promise<{ rows: R[]; total: number }> {
    const counting = sql.clone();
    let order: string;
    let offset = 0;
    if (score) {
      order = `ORDER BY ${score} DESC, ${nameColumn}, ${idColumn}`;
      offset = spec.cursor?.o ?? 0;
    } else {
      order = `ORDER BY ${nameColumn}, ${idColumn}`;
      const key = spec.cursor?.k;
      if (key) {
        sql.and(
          `(${nameColumn}, ${idColumn}) > (${sql.param(String(key[0]))}, ${sql.param(String(key[1]))})`,
        );
      }
    }
    const limitParam = sql.param(spec.limit + 1);
    const offsetParam = sql.param(offset);
    const run = async (runner: Pick<DataSource, 'query'>) => {
      const rows = await runner.query<R[]>(
        `SELECT ${select} FROM ${from} ${sql.whereSql} ${order} LIMIT ${limitParam} OFFSET ${offsetParam}`,
        sql.args,
      );
      const count = await runner.query<{ total: number }[]>(
        `SELECT count(*)::int AS total FROM ${from} ${counting.whereSql}`,
        counting.args,
      );
      return { rows, total: count[0].total };
    };
    if (!score) return run(this.db);
    // The `<%` operator (index-backed) uses this threshold; pg_trgm's default 0.6 misses
    // ordinary typos ("englsh"). Transaction-local, so pooled connections keep the default.
    return this.db.transaction(async (manager) => {
      await manager.query(`SELECT set_config('pg_trgm.word_similarity_threshold', $1, true)`, [
        String(WORD_SIMILARITY_THRESHOLD),
      ]);
      return run(manager);
    });
  }

  async languages(
    filter: { q?: string; regionId?: string; all: boolean; id?: string },
    spec: ListSpec,
  ) {
    const sql = new SqlBuilder().and('l.deleted_at IS NULL');
    const versions = (table: string, alias: string) =>
      `(SELECT count(*)::int FROM ${table} ${alias} WHERE ${alias}.language_entity_id = l.id AND ${published(alias, filter.all)})`;
    if (!filter.all) {
      sql.and(
        `(EXISTS (SELECT 1 FROM text_versions t WHERE t.language_entity_id = l.id AND ${published('t', false)})
          OR EXISTS (SELECT 1 FROM audio_versions a WHERE a.language_entity_id = l.id AND ${published('a', false)}))`,
      );
    }
    if (filter.id) sql.and(`l.id = ${sql.param(filter.id)}`);
    if (filter.regionId) sql.and(`l.region_id = ${sql.param(filter.regionId)}`);
    let score: string | undefined;
    if (filter.q) {
      const text = sql.param(filter.q);
      const code = sql.param(filter.q.toLowerCase());
      const pattern = sql.param(containsPattern(filter.q));
      sql.and(
        `(l.name ILIKE ${pattern} OR ${text} <% l.name OR l.id = ${code} OR l.iso_639_3 = ${code} OR l.iso_639_1 = ${code})`,
      );
      score = `GREATEST(word_similarity(${text}, l.name), CASE WHEN l.name ILIKE ${pattern} THEN 0.6 ELSE 0 END,
        CASE WHEN ${code} IN (l.id, l.iso_639_3, l.iso_639_1) THEN 1 ELSE 0 END)`;
    }
    return this.list<LanguageListing>(
      `l.id, l.name, l.iso_639_1, l.iso_639_3, l.region_id,
       ${versions('text_versions', 't')} AS text_version_count,
       ${versions('audio_versions', 'a')} AS audio_version_count`,
      'language_entities l',
      sql,
      spec,
      'l.name',
      'l.id',
      score,
    );
  }

  async bibleVersions(
    filter: { q?: string; all: boolean; publishStatus?: string; id?: string },
    spec: ListSpec,
  ) {
    const sql = new SqlBuilder().and(published('bv', filter.all));
    if (filter.id) sql.and(`bv.id = ${sql.param(filter.id)}`);
    if (filter.publishStatus) sql.and(`bv.publish_status = ${sql.param(filter.publishStatus)}`);
    const score = filter.q ? fuzzyMatch(sql, 'bv.name', filter.q).score : undefined;
    return this.list<BibleVersionListing>(
      `bv.id, bv.name, bv.structure_notes, bv.publish_status,
       (SELECT count(*)::int FROM books b WHERE b.bible_version_id = bv.id AND b.deleted_at IS NULL) AS book_count`,
      'bible_versions bv',
      sql,
      spec,
      'bv.name',
      'bv.id',
      score,
    );
  }

  async versions(
    kind: 'text' | 'audio',
    filter: {
      q?: string;
      all: boolean;
      publishStatus?: string;
      languageEntityId?: string;
      bibleVersionId?: string;
      id?: string;
    },
    spec: ListSpec,
  ) {
    const table = kind === 'text' ? 'text_versions' : 'audio_versions';
    const sql = new SqlBuilder().and(published('v', filter.all)).and('l.deleted_at IS NULL');
    if (filter.id) sql.and(`v.id = ${sql.param(filter.id)}`);
    if (filter.publishStatus) sql.and(`v.publish_status = ${sql.param(filter.publishStatus)}`);
    if (filter.languageEntityId)
      sql.and(`v.language_entity_id = ${sql.param(filter.languageEntityId)}`);
    if (filter.bibleVersionId) sql.and(`v.bible_version_id = ${sql.param(filter.bibleVersionId)}`);
    const score = filter.q ? fuzzyMatch(sql, 'v.name', filter.q).score : undefined;
    return this.list<VersionListing>(
      `v.id, v.name, v.language_entity_id, l.name AS language_name, v.bible_version_id,
       v.publish_status, v.updated_at${kind === 'text' ? ', v.text_version_source' : ''}`,
      `${table} v JOIN language_entities l ON l.id = v.language_entity_id`,
      sql,
      spec,
      'v.name',
      'v.id',
      score,
    );
  }

  async textVersionStats(
    id: string,
    all: boolean,
  ): Promise<{ verse_count: number; book_count: number }> {
    const rows = await this.db.query<{ verse_count: number; book_count: number }[]>(
      `SELECT count(*)::int AS verse_count, count(DISTINCT c.book_id)::int AS book_count
         FROM verse_texts vt JOIN verses v ON v.id = vt.verse_id JOIN chapters c ON c.id = v.chapter_id
        WHERE vt.text_version_id = $1 AND ${published('vt', all)}`,
      [id],
    );
    return rows[0];
  }

  async audioVersionStats(
    id: string,
    all: boolean,
  ): Promise<{ media_file_count: number; total_duration_seconds: number | null }> {
    const rows = await this.db.query<
      { media_file_count: number; total_duration_seconds: number | null }[]
    >(
      `SELECT count(*)::int AS media_file_count, sum(m.duration_seconds) AS total_duration_seconds
         FROM media_files m WHERE m.audio_version_id = $1 AND ${published('m', all)}`,
      [id],
    );
    return rows[0];
  }

  /** Books of a version that have content in it, in canonical order (keyset on book_number). */
  async books(
    kind: 'text' | 'audio',
    version: { id: string; bible_version_id: string },
    all: boolean,
    spec: ListSpec,
  ): Promise<{ rows: BookListing[]; total: number }> {
    const after = Number(spec.cursor?.k?.[0] ?? 0);
    const content =
      kind === 'text'
        ? `SELECT c.book_id, count(DISTINCT c.id)::int AS chapter_count, count(*)::int AS verse_count
             FROM verse_texts vt JOIN verses v ON v.id = vt.verse_id JOIN chapters c ON c.id = v.chapter_id
            WHERE vt.text_version_id = $1 AND ${published('vt', all)} GROUP BY c.book_id`
        : `SELECT c.book_id, count(DISTINCT c.id)::int AS chapter_count, count(*)::int AS media_file_count,
                  sum(m.duration_seconds) AS duration_seconds
             FROM media_files m JOIN chapters c ON c.id = m.chapter_id
            WHERE m.audio_version_id = $1 AND ${published('m', all)} GROUP BY c.book_id`;
    const rows = await this.db.query<(BookListing & { total: number })[]>(
      `SELECT * FROM (
         SELECT b.id, b.osis, b.name, b.book_number, b.testament, x.*, count(*) OVER ()::int AS total
           FROM books b JOIN (${content}) x ON x.book_id = b.id
          WHERE b.bible_version_id = $2 AND b.deleted_at IS NULL) t
        WHERE t.book_number > $3 ORDER BY t.book_number LIMIT $4`,
      [version.id, version.bible_version_id, after, spec.limit + 1],
    );
    const total = rows[0]?.total ?? (after > 0 ? await this.countBooks(content, version) : 0);
    return { rows, total };
  }

  private async countBooks(content: string, version: { id: string; bible_version_id: string }) {
    const rows = await this.db.query<{ total: number }[]>(
      `SELECT count(*)::int AS total FROM books b JOIN (${content}) x ON x.book_id = b.id
        WHERE b.bible_version_id = $2 AND b.deleted_at IS NULL`,
      [version.id, version.bible_version_id],
    );
    return rows[0].total;
  }

  async book(bibleVersionId: string, bookId: string): Promise<{ id: string } | null> {
    const rows = await this.db.query<{ id: string }[]>(
      `SELECT id FROM books WHERE bible_version_id = $1 AND deleted_at IS NULL
          AND (id = $2 OR lower(osis) = lower($2))`,
      [bibleVersionId, bookId],
    );
    return rows[0] ?? null;
  }

  /** Chapters of a book with the version's content per chapter (keyset on chapter_number). */
  async chapters(
    kind: 'text' | 'audio',
    versionId: string,
    bookId: string,
    all: boolean,
    spec: ListSpec,
  ): Promise<{ rows: ChapterListing[]; total: number }> {
    const after = Number(spec.cursor?.k?.[0] ?? 0);
    const content =
      kind === 'text'
        ? `(SELECT count(*)::int FROM verse_texts vt JOIN verses v ON v.id = vt.verse_id
             WHERE v.chapter_id = c.id AND vt.text_version_id = $1 AND ${published('vt', all)}) AS verse_count`
        : `(SELECT coalesce(json_agg(json_build_object(
               'id', m.id, 'durationSeconds', m.duration_seconds, 'fileSize', m.file_size,
               'format', m.format, 'publishStatus', m.publish_status,
               'timingCount', (SELECT count(*) FROM media_files_verses t
                                WHERE t.media_file_id = m.id AND t.deleted_at IS NULL))
               ORDER BY m.id), '[]'::json)
             FROM media_files m WHERE m.chapter_id = c.id AND m.audio_version_id = $1
              AND ${published('m', all)}) AS media_files`;
    const [rows, count] = await Promise.all([
      this.db.query<ChapterListing[]>(
        `SELECT c.id, c.chapter_number, c.total_verses, ${content}
           FROM chapters c WHERE c.book_id = $2 AND c.deleted_at IS NULL AND c.chapter_number > $3
          ORDER BY c.chapter_number LIMIT $4`,
        [versionId, bookId, after, spec.limit + 1],
      ),
      this.db.query<{ total: number }[]>(
        `SELECT count(*)::int AS total FROM chapters c WHERE c.book_id = $1 AND c.deleted_at IS NULL`,
        [bookId],
      ),
    ]);
    return { rows, total: count[0].total };
  }

  /** Whether `q` has any searchable word (an empty tsquery matches nothing). */
  async searchable(q: string): Promise<boolean> {
    const rows = await this.db.query<{ nodes: number }[]>(
      `SELECT numnode(websearch_to_tsquery('simple', $1))::int AS nodes`,
      [q],
    );
    return rows[0].nodes > 0;
  }

  /**
   * Full-text search in one text version: matches through the GIN index on
   * to_tsvector('simple', verse_text), ranked by ts_rank, snippets (ts_headline) only for the
   * page's rows.
   */
  async search(
    textVersionId: string,
    q: string,
    filter: { book?: string; all: boolean },
    spec: ListSpec,
  ): Promise<{ rows: SearchHit[]; total: number }> {
    const offset = spec.cursor?.o ?? 0;
    const rows = await this.db.query<SearchHit[]>(
      `WITH query AS (SELECT websearch_to_tsquery('simple', $2) AS q),
       hits AS (
         SELECT vt.verse_id, vt.verse_text,
                ts_rank(to_tsvector('simple', vt.verse_text), query.q) AS rank,
                b.id AS book_id, b.osis, b.name AS book_name, b.book_number,
                c.chapter_number, v.verse_number
           FROM verse_texts vt CROSS JOIN query
           JOIN verses v ON v.id = vt.verse_id
           JOIN chapters c ON c.id = v.chapter_id
           JOIN books b ON b.id = c.book_id
          WHERE vt.text_version_id = $1 AND ${published('vt', filter.all)}
            AND to_tsvector('simple', vt.verse_text) @@ query.q
            AND ($3::text IS NULL OR lower(b.osis) = lower($3))
       ),
       page AS (
         SELECT h.*, count(*) OVER ()::int AS total FROM hits h
          ORDER BY h.rank DESC, h.book_number, h.chapter_number, h.verse_number
          LIMIT $4 OFFSET $5
       )
       SELECT page.*, ts_headline('simple', page.verse_text, query.q,
                'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "') AS snippet
         FROM page CROSS JOIN query
        ORDER BY page.rank DESC, page.book_number, page.chapter_number, page.verse_number`,
      [textVersionId, q, filter.book ?? null, spec.limit + 1, offset],
    );
    let total = rows[0]?.total;
    if (total === undefined) {
      total =
        offset === 0
          ? 0
          : (
              await this.db.query<{ total: number }[]>(
                `SELECT count(*)::int AS total FROM verse_texts vt
                   JOIN verses v ON v.id = vt.verse_id JOIN chapters c ON c.id = v.chapter_id
                   JOIN books b ON b.id = c.book_id
                  WHERE vt.text_version_id = $1 AND ${published('vt', filter.all)}
                    AND to_tsvector('simple', vt.verse_text) @@ websearch_to_tsquery('simple', $2)
                    AND ($3::text IS NULL OR lower(b.osis) = lower($3))`,
                [textVersionId, q, filter.book ?? null],
              )
            )[0].total;
    }
    return { rows, total };
  }
}
