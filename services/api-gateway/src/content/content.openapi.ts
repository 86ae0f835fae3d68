import type { z } from 'zod';
import { routeGroup } from '../openapi/registry';
import {
  audioVersionSchema,
  audioVersionsPageSchema,
  bibleVersionSchema,
  bibleVersionsPageSchema,
  bibleVersionsQuerySchema,
  bookParamsSchema,
  booksPageSchema,
  chaptersPageSchema,
  detailQuerySchema,
  idParamsSchema,
  languageSchema,
  languagesPageSchema,
  languagesQuerySchema,
  pageQuerySchema,
  publishResultSchema,
  searchPageSchema,
  searchQuerySchema,
  textVersionSchema,
  textVersionsPageSchema,
  versionsQuerySchema,
} from './content.schemas';

const notFound = 'Unknown id (or a draft the caller may not see)';
const route = routeGroup(['content']);

/** A catalog collection: a page of it (list query) and one item by id (detail query). */
function collection(
  path: string,
  list: { summary: string; query: z.ZodObject; page: [string, z.ZodType] },
  one: { summary: string; item: [string, z.ZodType] },
): void {
  route(`GET ${path}`, { summary: list.summary, query: list.query, responses: { 200: list.page } });
  route(`GET ${path}/{id}`, {
    summary: one.summary,
    params: idParamsSchema,
    query: detailQuerySchema,
    responses: { 200: one.item, 404: notFound },
  });
}

collection(
  '/v1/languages',
  {
    summary: 'Languages with published content (all with includeUnpublished); fuzzy ?q=',
    query: languagesQuerySchema,
    page: ['A page of languages', languagesPageSchema],
  },
  { summary: 'One language', item: ['The language', languageSchema] },
);
collection(
  '/v1/bible-versions',
  {
    summary: 'Bible structures (canons); fuzzy ?q=',
    query: bibleVersionsQuerySchema,
    page: ['A page of Bible versions', bibleVersionsPageSchema],
  },
  { summary: 'One Bible structure', item: ['The Bible version', bibleVersionSchema] },
);
for (const kind of ['text', 'audio'] as const) {
  const base = `/v1/${kind}-versions`;
  collection(
    base,
    {
      summary: `${kind === 'text' ? 'Text' : 'Audio'} versions; filters and fuzzy ?q= on the name`,
      query: versionsQuerySchema,
      page: [
        'A page of versions',
        kind === 'text' ? textVersionsPageSchema : audioVersionsPageSchema,
      ],
    },
    {
      summary: `One ${kind} version with its totals`,
      item: ['The version', kind === 'text' ? textVersionSchema : audioVersionSchema],
    },
  );
  route(`GET ${base}/{id}/books`, {
    summary: `Books with ${kind} in the version, in canonical order`,
    params: idParamsSchema,
    query: pageQuerySchema,
    responses: { 200: ['A page of books', booksPageSchema], 404: notFound },
  });
  route(`GET ${base}/{id}/books/{bookId}/chapters`, {
    summary: `Chapters of a book (book id or OSIS id) with the version's ${kind} per chapter`,
    params: bookParamsSchema,
    query: pageQuerySchema,
    responses: { 200: ['A page of chapters', chaptersPageSchema], 404: notFound },
  });
  for (const action of ['publish', 'unpublish'] as const) {
    route(`POST ${base}/{id}/${action}`, {
      summary: `${action === 'publish' ? 'Publish' : 'Unpublish (back to draft)'} a ${kind} version`,
      auth: 'editor',
      params: idParamsSchema,
      responses: { 200: ['The new status', publishResultSchema], 404: notFound },
    });
  }
}
for (const action of ['publish', 'unpublish'] as const) {
  route(`POST /v1/bible-versions/{id}/${action}`, {
    summary: `${action === 'publish' ? 'Publish' : 'Unpublish'} a Bible structure`,
    auth: 'editor',
    params: idParamsSchema,
    responses: { 200: ['The new status', publishResultSchema], 404: notFound },
  });
}
route('GET /v1/text-versions/{id}/search', {
  summary: 'Ranked full-text search inside a text version: verse references with snippets',
  params: idParamsSchema,
  query: searchQuerySchema,
  responses: { 200: ['A page of hits, best first', searchPageSchema], 404: notFound },
});
