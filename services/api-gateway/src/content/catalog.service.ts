import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@bible/common';
import { type AuthUser, hasRole } from '../auth/auth.types';
import {
  type BibleVersionListing,
  type BookListing,
  CatalogRepository,
  type ChapterListing,
  type LanguageListing,
  type ListSpec,
  type SearchHit,
  type VersionListing,
} from '@bible/content';
import type {
  BibleVersionsQuery,
  LanguagesQuery,
  PageQuery,
  SearchQuery,
  VersionsQuery,
} from './content.schemas';
import { ContentCache } from './content-cache';
import { type Page, type PageCursor, cursorFromQuery, toPage } from './page-cursor';

export type VersionKind = 'text' | 'audio';

const versionLabel = (kind: VersionKind) => (kind === 'text' ? 'Text version' : 'Audio version');

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

export const languageView = (r: LanguageListing) => ({
  id: r.id,
  name: r.name,
  iso6391: r.iso_639_1,
  iso6393: r.iso_639_3,
  regionId: r.region_id,
  textVersionCount: r.text_version_count,
  audioVersionCount: r.audio_version_count,
});

export const bibleVersionView = (r: BibleVersionListing) => ({
  id: r.id,
  name: r.name,
  structureNotes: r.structure_notes,
  publishStatus: r.publish_status,
  bookCount: r.book_count,
});

export const versionView = (r: VersionListing) => ({
  id: r.id,
  name: r.name,
  languageEntityId: r.language_entity_id,
  languageName: r.language_name,
  bibleVersionId: r.bible_version_id,
  publishStatus: r.publish_status,
  updatedAt: iso(r.updated_at),
  ...(r.text_version_source !== undefined && { source: r.text_version_source }),
});

const bookView = (r: BookListing) => ({
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

const chapterView = (r: ChapterListing) => ({
  id: r.id,
  chapterNumber: r.chapter_number,
  totalVerses: r.total_verses,
  ...(r.verse_count !== undefined && { verseCount: r.verse_count }),
  ...(r.media_files !== undefined && {
    mediaFiles: r.media_files.map((m) => ({ ...m, fileSize: num(m.fileSize) })),
  }),
});

const searchView = (r: SearchHit) => ({
  verseId: r.verse_id,
  reference: `${r.book_name} ${r.chapter_number}:${r.verse_number}`,
  book: { id: r.book_id, osis: r.osis, name: r.book_name },
  chapter: r.chapter_number,
  verse: r.verse_number,
  text: r.verse_text,
  snippet: r.snippet,
  rank: Number(r.rank),
});

/** The first row's view, or null (a detail read by id). */
const firstView = <R, V>({ rows }: { rows: R[] }, view: (row: R) => V): V | null =>
  rows[0] ? view(rows[0]) : null;

const ONE: ListSpec = { limit: 1 };

type ListQuery = { q?: string; limit: number; cursor?: string; includeUnpublished?: boolean };

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

  /** One page through the cache; the cursor is checked against the filters before any read. */
  private page<T>(
    namespace: string,
    filters: Record<string, unknown>,
    query: { cursor?: string; limit: number },
    load: (spec: { limit: number; cursor?: PageCursor }) => Promise<T>,
  ): Promise<T> {
    const cursor = cursorFromQuery(query.cursor, filters);
    return this.cache.read(namespace, { filters, cursor, limit: query.limit }, () =>
      load({ limit: query.limit, cursor }),
    );
  }

  /** A top-level list ordered by (name, id), or by match score when `q` is given. */
  private namedList<R extends { name: string; id: string }, V>(
    namespace: string,
    query: ListQuery,
    user: AuthUser,
    fetch: (all: boolean, spec: ListSpec) => Promise<{ rows: R[]; total: number }>,
    view: (row: R) => V,
  ): Promise<Page<V>> {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { ...query, includeUnpublished: all };
    return this.page(namespace, filters, query, async (spec) => {
      const { rows, total } = await fetch(all, spec);
      const next = query.q ? { offset: spec.cursor?.o ?? 0 } : { keyOf: (r: R) => [r.name, r.id] };
      return toPage(rows, query.limit, filters, view, next, total);
    });
  }

  /** One catalog entry by id through the cache; 404 when it is not visible to the caller. */
  private async detail<V>(
    namespace: string,
    [what, id]: [what: string, id: string],
    includeUnpublished: boolean | undefined,
    user: AuthUser,
    load: (all: boolean) => Promise<V | null>,
  ): Promise<V> {
    const all = canSeeDrafts(user, includeUnpublished);
    const view = await this.cache.read(namespace, { id, all }, () => load(all));
    return view ?? this.notFound(what, id);
  }

  async languages(
    query: LanguagesQuery,
    user: AuthUser,
  ): Promise<Page<ReturnType<typeof languageView>>> {
    return this.namedList(
      'languages',
      query,
      user,
      (all, spec) => this.repo.languages({ q: query.q, regionId: query.regionId, all }, spec),
      languageView,
    );
  }

  async language(id: string, includeUnpublished: boolean | undefined, user: AuthUser) {
    return this.detail('language', ['Language', id], includeUnpublished, user, async (all) =>
      firstView(await this.repo.languages({ id, all }, ONE), languageView),
    );
  }

  async bibleVersions(query: BibleVersionsQuery, user: AuthUser) {
    return this.namedList(
      'bible-versions',
      query,
      user,
      (all, spec) =>
        this.repo.bibleVersions(
          { q: query.q, all, publishStatus: all ? query.publishStatus : undefined },
          spec,
        ),
      bibleVersionView,
    );
  }

  async bibleVersion(id: string, includeUnpublished: boolean | undefined, user: AuthUser) {
    return this.detail(
      'bible-version',
      ['Bible version', id],
      includeUnpublished,
      user,
      async (all) => firstView(await this.repo.bibleVersions({ id, all }, ONE), bibleVersionView),
    );
  }

  async versions(kind: VersionKind, query: VersionsQuery, user: AuthUser) {
    return this.namedList(
      `${kind}-versions`,
      query,
      user,
      (all, spec) =>
        this.repo.versions(
          kind,
          {
            q: query.q,
            all,
            publishStatus: all ? query.publishStatus : undefined,
            languageEntityId: query.languageEntityId,
            bibleVersionId: query.bibleVersionId,
          },
          spec,
        ),
      versionView,
    );
  }

  /** The version row if the caller may see it (404 otherwise: never leak drafts). */
  private async visibleVersion(
    kind: VersionKind,
    id: string,
    all: boolean,
  ): Promise<VersionListing> {
    const { rows } = await this.repo.versions(kind, { id, all }, ONE);
    return rows[0] ?? this.notFound(versionLabel(kind), id);
  }

  async version(
    kind: VersionKind,
    id: string,
    includeUnpublished: boolean | undefined,
    user: AuthUser,
  ) {
    return this.detail(
      `${kind}-version`,
      [versionLabel(kind), id],
      includeUnpublished,
      user,
      async (all) => {
        const { rows } = await this.repo.versions(kind, { id, all }, ONE);
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
      },
    );
  }

  async books(kind: VersionKind, id: string, query: PageQuery, user: AuthUser) {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { kind, id, includeUnpublished: all };
    const page = await this.page(`${kind}-books`, filters, query, async (spec) => {
      const version = await this.repo.versions(kind, { id, all }, ONE);
      if (!version.rows[0]) return null;
      const { rows, total } = await this.repo.books(kind, version.rows[0], all, spec);
      return toPage(rows, query.limit, filters, bookView, { keyOf: (r) => [r.book_number] }, total);
    });
    return page ?? this.notFound(versionLabel(kind), id);
  }

  async chapters(kind: VersionKind, id: string, bookId: string, query: PageQuery, user: AuthUser) {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { kind, id, bookId, includeUnpublished: all };
    const page = await this.page(`${kind}-chapters`, filters, query, async (spec) => {
      const version = await this.visibleVersion(kind, id, all);
      const book = await this.repo.book(version.bible_version_id, bookId);
      if (!book) return null;
      const { rows, total } = await this.repo.chapters(kind, id, book.id, all, spec);
      return toPage(
        rows,
        query.limit,
        filters,
        chapterView,
        { keyOf: (r) => [r.chapter_number] },
        total,
      );
    });
    return page ?? this.notFound('Book', bookId);
  }

  async search(id: string, query: SearchQuery, user: AuthUser) {
    const all = canSeeDrafts(user, query.includeUnpublished);
    const filters = { id, q: query.q, book: query.book, includeUnpublished: all };
    const page = await this.page('search', filters, query, async (spec) => {
      const { rows: versions } = await this.repo.versions('text', { id, all }, ONE);
      if (!versions[0]) return null;
      if (!(await this.repo.searchable(query.q))) {
        throw new AppError(400, ErrorCode.ValidationFailed, 'Nothing to search for', [
          { field: 'query.q', message: 'has no searchable words' },
        ]);
      }
      const { rows, total } = await this.repo.search(id, query.q, { book: query.book, all }, spec);
      const next = { offset: spec.cursor?.o ?? 0 };
      return toPage(rows, query.limit, filters, searchView, next, total);
    });
    return page ?? this.notFound('Text version', id);
  }
}
