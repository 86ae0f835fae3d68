import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@bible/common';
import { type AuthUser, hasRole } from '../auth/auth.types';
import {
  type BibleVersionRow,
  type BookRow,
  CatalogRepository,
  type ChapterRow,
  type LanguageRow,
  type SearchRow,
  type VersionRow,
} from './catalog.repository';
import type {
  BibleVersionsQuery,
  LanguagesQuery,
  PageQuery,
  SearchQuery,
  VersionsQuery,
} from './content.schemas';
import { ContentCache } from './content-cache';
import { type Page, cursorFromQuery, toPage } from './page-cursor';

export type VersionKind = 'text' | 'audio';

/** `includeUnpublished` is for editors and admins; anyone else asking for it gets a 403. */
export function canSeeDrafts(user: AuthUser, includeUnpublished: boolean | undefined): boolean {
  if (!includeUnpublished) return false;
  if (!hasRole(user, 'editor')) {
    throw new AppError(403, ErrorCode.Forbidden, 'Only editors and admins may list drafts', [
      { field: 'query.includeUnpublished', message: 'needs the editor role' },
    ]);
  }
  return true;
}

const iso = (d: Date | string) => new Date(d).toISOString();
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export const languageView = (r: LanguageRow) => ({
  id: r.id,
  name: r.name,
  iso6391: r.iso_639_1,
  iso6393: r.iso_639_3,
  regionId: r.region_id,
  textVersionCount: r.text_version_count,
  audioVersionCount: r.audio_version_count,
});

export const bibleVersionView = (r: BibleVersionRow) => ({
  id: r.id,
  name: r.name,
  structureNotes: r.structure_notes,
  publishStatus: r.publish_status,
  bookCount: r.book_count,
});

export const versionView = (r: VersionRow) => ({
  id: r.id,
  name: r.name,
  languageEntityId: r.language_entity_id,
  languageName: r.language_name,
  bibleVersionId: r.bible_version_id,
  publishStatus: r.publish_status,
  updatedAt: iso(r.updated_at),
  ...(r.text_version_source !== undefined && { source: r.text_version_source }),
});

const bookView = (r: BookRow) => ({
  id: r.id,
  osis: r.osis,
  name: r.name,
  bookNumber: r.book_number,
  testament: r.testament,
  chapterCount: r.chapter_count,
  ...(r.verse_count !== undefined && { verseCount: r.verse_count }),
  ...(r.media_file_count !== undefined && { mediaFileCount: r.media_file_count }),
  ...(r.duration_seconds !== undefined && { durationSeconds: num(r.duration_seconds) ?? 0 }),
});

const chapterView = (r: ChapterRow) => ({
  id: r.id,
  chapterNumber: r.chapter_number,
  totalVerses: r.total_verses,
  ...(r.verse_count !== undefined && { verseCount: r.verse_count }),
  ...(r.media_files !== undefined && {
    mediaFiles: r.media_files.map((m) => ({ ...m, fileSize: num(m.fileSize) })),
  }),
});

const searchView = (r: SearchRow) => ({
  verseId: r.verse_id,
  reference: `${r.book_name} ${r.chapter_number}:${r.verse_number}`,
  book: { id: r.book_id, osis: r.osis, name: r.book_name },
  chapter: r.chapter_number,
  verse: r.verse_number,
  text: r.verse_text,
  snippet: r.snippet,
  rank: Number(r.rank),
});

/**
 * Catalog reads: visibility (published only unless an editor asks for drafts), pagination, and
 * the Redis read-through cache in front of Postgres.
 */
@Injectable()
export class CatalogService {
  constructor(
    private readonly repo: CatalogRepository,
    private readonly cache: ContentCache,
  ) {}

  private notFound(what: string, id: string): never {
    throw new AppError(404, ErrorCode.NotFound, `${what} ${id} not found`);
  }

  async languages(
    query: LanguagesQuery,
    user: AuthUser,
  ): Promise<Page<ReturnType<typeof languageView>>> {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { ...query, includeUnpublished: all };
    const cursor = cursorFromQuery(query.cursor, filters);
    return this.cache.read('languages', { filters, cursor, limit: query.limit }, async () => {
      const { rows, total } = await this.repo.languages(
        { q: query.q, regionId: query.regionId, all },
        { limit: query.limit, cursor },
      );
      return toPage(
        rows,
        query.limit,
        filters,
        languageView,
        query.q ? { offset: cursor?.o ?? 0 } : { keyOf: (r) => [r.name, r.id] },
        total,
      );
    });
  }

  async language(id: string, includeUnpublished: boolean | undefined, user: AuthUser) {
    const all = canSeeDrafts(user, includeUnpublished);
    const row = await this.cache.read('language', { id, all }, async () => {
      const { rows } = await this.repo.languages({ id, all }, { limit: 1 });
      return rows[0] ? languageView(rows[0]) : null;
    });
    return row ?? this.notFound('Language', id);
  }

  async bibleVersions(query: BibleVersionsQuery, user: AuthUser) {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { ...query, includeUnpublished: all };
    const cursor = cursorFromQuery(query.cursor, filters);
    return this.cache.read('bible-versions', { filters, cursor, limit: query.limit }, async () => {
      const { rows, total } = await this.repo.bibleVersions(
        { q: query.q, all, publishStatus: all ? query.publishStatus : undefined },
        { limit: query.limit, cursor },
      );
      return toPage(
        rows,
        query.limit,
        filters,
        bibleVersionView,
        query.q ? { offset: cursor?.o ?? 0 } : { keyOf: (r) => [r.name, r.id] },
        total,
      );
    });
  }

  async bibleVersion(id: string, includeUnpublished: boolean | undefined, user: AuthUser) {
    const all = canSeeDrafts(user, includeUnpublished);
    const row = await this.cache.read('bible-version', { id, all }, async () => {
      const { rows } = await this.repo.bibleVersions({ id, all }, { limit: 1 });
      return rows[0] ? bibleVersionView(rows[0]) : null;
    });
    return row ?? this.notFound('Bible version', id);
  }

  async versions(kind: VersionKind, query: VersionsQuery, user: AuthUser) {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { ...query, includeUnpublished: all };
    const cursor = cursorFromQuery(query.cursor, filters);
    return this.cache.read(
      `${kind}-versions`,
      { filters, cursor, limit: query.limit },
      async () => {
        const { rows, total } = await this.repo.versions(
          kind,
          {
            q: query.q,
            all,
            publishStatus: all ? query.publishStatus : undefined,
            languageEntityId: query.languageEntityId,
            bibleVersionId: query.bibleVersionId,
          },
          { limit: query.limit, cursor },
        );
        return toPage(
          rows,
          query.limit,
          filters,
          versionView,
          query.q ? { offset: cursor?.o ?? 0 } : { keyOf: (r) => [r.name, r.id] },
          total,
        );
      },
    );
  }

  /** The version row if the caller may see it (404 otherwise: never leak drafts). */
  private async visibleVersion(kind: VersionKind, id: string, all: boolean): Promise<VersionRow> {
    const { rows } = await this.repo.versions(kind, { id, all }, { limit: 1 });
    return rows[0] ?? this.notFound(`${kind === 'text' ? 'Text' : 'Audio'} version`, id);
  }

  async version(
    kind: VersionKind,
    id: string,
    includeUnpublished: boolean | undefined,
    user: AuthUser,
  ) {
    const all = canSeeDrafts(user, includeUnpublished);
    const view = await this.cache.read(`${kind}-version`, { id, all }, async () => {
      const { rows } = await this.repo.versions(kind, { id, all }, { limit: 1 });
      if (!rows[0]) return null;
      if (kind === 'text') {
        const stats = await this.repo.textVersionStats(id, all);
        return {
          ...versionView(rows[0]),
          verseCount: stats.verse_count,
          bookCount: stats.book_count,
        };
      }
      const stats = await this.repo.audioVersionStats(id, all);
      return {
        ...versionView(rows[0]),
        mediaFileCount: stats.media_file_count,
        totalDurationSeconds: num(stats.total_duration_seconds) ?? 0,
      };
    });
    return view ?? this.notFound(`${kind === 'text' ? 'Text' : 'Audio'} version`, id);
  }

  async books(kind: VersionKind, id: string, query: PageQuery, user: AuthUser) {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { kind, id, includeUnpublished: all };
    const cursor = cursorFromQuery(query.cursor, filters);
    const page = await this.cache.read(
      `${kind}-books`,
      { filters, cursor, limit: query.limit },
      async () => {
        const version = await this.repo.versions(kind, { id, all }, { limit: 1 });
        if (!version.rows[0]) return null;
        const { rows, total } = await this.repo.books(kind, version.rows[0], all, {
          limit: query.limit,
          cursor,
        });
        return toPage(
          rows,
          query.limit,
          filters,
          bookView,
          { keyOf: (r) => [r.book_number] },
          total,
        );
      },
    );
    return page ?? this.notFound(`${kind === 'text' ? 'Text' : 'Audio'} version`, id);
  }

  async chapters(kind: VersionKind, id: string, bookId: string, query: PageQuery, user: AuthUser) {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { kind, id, bookId, includeUnpublished: all };
    const cursor = cursorFromQuery(query.cursor, filters);
    const page = await this.cache.read(
      `${kind}-chapters`,
      { filters, cursor, limit: query.limit },
      async () => {
        const version = await this.visibleVersion(kind, id, all);
        const book = await this.repo.book(version.bible_version_id, bookId);
        if (!book) return null;
        const { rows, total } = await this.repo.chapters(kind, id, book.id, all, {
          limit: query.limit,
          cursor,
        });
        return toPage(
          rows,
          query.limit,
          filters,
          chapterView,
          { keyOf: (r) => [r.chapter_number] },
          total,
        );
      },
    );
    return page ?? this.notFound('Book', bookId);
  }

  async search(id: string, query: SearchQuery, user: AuthUser) {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { id, q: query.q, book: query.book, includeUnpublished: all };
    const cursor = cursorFromQuery(query.cursor, filters);
    const page = await this.cache.read(
      'search',
      { filters, cursor, limit: query.limit },
      async () => {
        const { rows: versions } = await this.repo.versions('text', { id, all }, { limit: 1 });
        if (!versions[0]) return null;
        if (!(await this.repo.searchable(query.q))) {
          throw new AppError(400, ErrorCode.ValidationFailed, 'Nothing to search for', [
            { field: 'query.q', message: 'has no searchable words' },
          ]);
        }
        const { rows, total } = await this.repo.search(
          id,
          query.q,
          { book: query.book, all },
          { limit: query.limit, cursor },
        );
        return toPage(rows, query.limit, filters, searchView, { offset: cursor?.o ?? 0 }, total);
      },
    );
    return page ?? this.notFound('Text version', id);
  }
}
