import { Controller, Get, Param, Query } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types';
import { CurrentUser } from '../auth/decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { CatalogService } from './catalog.service';
import {
  type BibleVersionsQuery,
  type LanguagesQuery,
  type PageQuery,
  type SearchQuery,
  type VersionsQuery,
  bibleVersionsQuerySchema,
  bookParamsSchema,
  detailQuerySchema,
  idParamsSchema,
  languagesQuerySchema,
  pageQuerySchema,
  searchQuerySchema,
  versionsQuerySchema,
} from './content.schemas';
import './content.openapi';

type Id = { id: string };
type Detail = { includeUnpublished?: boolean };
const id = new ZodValidationPipe(idParamsSchema);
const detail = new ZodValidationPipe(detailQuerySchema);
const page = new ZodValidationPipe(pageQuerySchema);

/** The content catalog (docs/content.md): languages, versions, books, chapters, search. */
@Controller()
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get('languages')
  languages(
    @Query(new ZodValidationPipe(languagesQuerySchema)) query: LanguagesQuery,
    @CurrentUser() user: AuthUser,
  ) {
    return this.catalog.languages(query, user);
  }

  @Get('languages/:id')
  language(@Param(id) p: Id, @Query(detail) q: Detail, @CurrentUser() user: AuthUser) {
    return this.catalog.language(p.id, q.includeUnpublished, user);
  }

  @Get('bible-versions')
  bibleVersions(
    @Query(new ZodValidationPipe(bibleVersionsQuerySchema)) query: BibleVersionsQuery,
    @CurrentUser() user: AuthUser,
  ) {
    return this.catalog.bibleVersions(query, user);
  }

  @Get('bible-versions/:id')
  bibleVersion(@Param(id) p: Id, @Query(detail) q: Detail, @CurrentUser() user: AuthUser) {
    return this.catalog.bibleVersion(p.id, q.includeUnpublished, user);
  }

  @Get('text-versions')
  textVersions(
    @Query(new ZodValidationPipe(versionsQuerySchema)) query: VersionsQuery,
    @CurrentUser() user: AuthUser,
  ) {
    return this.catalog.versions('text', query, user);
  }

  @Get('text-versions/:id')
  textVersion(@Param(id) p: Id, @Query(detail) q: Detail, @CurrentUser() user: AuthUser) {
    return this.catalog.version('text', p.id, q.includeUnpublished, user);
  }

  @Get('text-versions/:id/search')
  search(
    @Param(id) p: Id,
    @Query(new ZodValidationPipe(searchQuerySchema)) query: SearchQuery,
    @CurrentUser() user: AuthUser,
  ) {
    return this.catalog.search(p.id, query, user);
  }

  @Get('text-versions/:id/books')
  textBooks(@Param(id) p: Id, @Query(page) query: PageQuery, @CurrentUser() user: AuthUser) {
    return this.catalog.books('text', p.id, query, user);
  }

  @Get('text-versions/:id/books/:bookId/chapters')
  textChapters(
    @Param(new ZodValidationPipe(bookParamsSchema)) p: Id & { bookId: string },
    @Query(page) query: PageQuery,
    @CurrentUser() user: AuthUser,
  ) {
    return this.catalog.chapters('text', p.id, p.bookId, query, user);
  }

  @Get('audio-versions')
  audioVersions(
    @Query(new ZodValidationPipe(versionsQuerySchema)) query: VersionsQuery,
    @CurrentUser() user: AuthUser,
  ) {
    return this.catalog.versions('audio', query, user);
  }

  @Get('audio-versions/:id')
  audioVersion(@Param(id) p: Id, @Query(detail) q: Detail, @CurrentUser() user: AuthUser) {
    return this.catalog.version('audio', p.id, q.includeUnpublished, user);
  }

  @Get('audio-versions/:id/books')
  audioBooks(@Param(id) p: Id, @Query(page) query: PageQuery, @CurrentUser() user: AuthUser) {
    return this.catalog.books('audio', p.id, query, user);
  }

  @Get('audio-versions/:id/books/:bookId/chapters')
  audioChapters(
    @Param(new ZodValidationPipe(bookParamsSchema)) p: Id & { bookId: string },
    @Query(page) query: PageQuery,
    @CurrentUser() user: AuthUser,
  ) {
    return this.catalog.chapters('audio', p.id, p.bookId, query, user);
  }
}
