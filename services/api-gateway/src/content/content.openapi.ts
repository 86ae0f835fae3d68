import { documentRoute } from '../openapi/registry';
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

const tags = ['content'];
const notFound = { description: 'Unknown id (or a draft the caller may not see)' };

documentRoute({
  method: 'get',
  path: '/v1/languages',
  summary: 'Languages with published content (all with includeUnpublished); fuzzy ?q=',
  tags,
  query: languagesQuerySchema,
  responses: { 200: { description: 'A page of languages', schema: languagesPageSchema } },
});
documentRoute({
  method: 'get',
  path: '/v1/languages/{id}',
  summary: 'One language',
  tags,
  params: idParamsSchema,
  query: detailQuerySchema,
  responses: { 200: { description: 'The language', schema: languageSchema }, 404: notFound },
});
documentRoute({
  method: 'get',
  path: '/v1/bible-versions',
  summary: 'Bible structures (canons); fuzzy ?q=',
  tags,
  query: bibleVersionsQuerySchema,
  responses: { 200: { description: 'A page of Bible versions', schema: bibleVersionsPageSchema } },
});
documentRoute({
  method: 'get',
  path: '/v1/bible-versions/{id}',
  summary: 'One Bible structure',
  tags,
  params: idParamsSchema,
  query: detailQuerySchema,
  responses: {
    200: { description: 'The Bible version', schema: bibleVersionSchema },
    404: notFound,
  },
});
for (const kind of ['text', 'audio'] as const) {
  const base = `/v1/${kind}-versions`;
  documentRoute({
    method: 'get',
    path: base,
    summary: `${kind === 'text' ? 'Text' : 'Audio'} versions; filters and fuzzy ?q= on the name`,
    tags,
    query: versionsQuerySchema,
    responses: {
      200: {
        description: 'A page of versions',
        schema: kind === 'text' ? textVersionsPageSchema : audioVersionsPageSchema,
      },
    },
  });
  documentRoute({
    method: 'get',
    path: `${base}/{id}`,
    summary: `One ${kind} version with its totals`,
    tags,
    params: idParamsSchema,
    query: detailQuerySchema,
    responses: {
      200: {
        description: 'The version',
        schema: kind === 'text' ? textVersionSchema : audioVersionSchema,
      },
      404: notFound,
    },
  });
  documentRoute({
    method: 'get',
    path: `${base}/{id}/books`,
    summary: `Books with ${kind} in the version, in canonical order`,
    tags,
    params: idParamsSchema,
    query: pageQuerySchema,
    responses: { 200: { description: 'A page of books', schema: booksPageSchema }, 404: notFound },
  });
  documentRoute({
    method: 'get',
    path: `${base}/{id}/books/{bookId}/chapters`,
    summary: `Chapters of a book (book id or OSIS id) with the version's ${kind} per chapter`,
    tags,
    params: bookParamsSchema,
    query: pageQuerySchema,
    responses: {
      200: { description: 'A page of chapters', schema: chaptersPageSchema },
      404: notFound,
    },
  });
  for (const action of ['publish', 'unpublish'] as const) {
    documentRoute({
      method: 'post',
      path: `${base}/{id}/${action}`,
      summary: `${action === 'publish' ? 'Publish' : 'Unpublish (back to draft)'} a ${kind} version`,
      tags,
      auth: 'editor',
      params: idParamsSchema,
      responses: {
        200: { description: 'The new status', schema: publishResultSchema },
        404: notFound,
      },
    });
  }
}
for (const action of ['publish', 'unpublish'] as const) {
  documentRoute({
    method: 'post',
    path: `/v1/bible-versions/{id}/${action}`,
    summary: `${action === 'publish' ? 'Publish' : 'Unpublish'} a Bible structure`,
    tags,
    auth: 'editor',
    params: idParamsSchema,
    responses: {
      200: { description: 'The new status', schema: publishResultSchema },
      404: notFound,
    },
  });
}
documentRoute({
  method: 'get',
  path: '/v1/text-versions/{id}/search',
  summary: 'Ranked full-text search inside a text version: verse references with snippets',
  tags,
  params: idParamsSchema,
  query: searchQuerySchema,
  responses: {
    200: { description: 'A page of hits, best first', schema: searchPageSchema },
    404: notFound,
  },
});
