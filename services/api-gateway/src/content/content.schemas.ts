import { z } from 'zod';
import { PUBLISH_STATUSES, TESTAMENTS } from '@bible/common';

export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9._-]');

const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(200)
  .default(50)
  .describe('Page size (default 50, max 200)');
const cursor = z.string().max(512).optional().describe('Opaque cursor from the previous page');
const q = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .optional()
  .describe('Fuzzy search (trigram similarity, typo-tolerant) on the name');
const includeUnpublished = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1')
  .describe('Editors and admins only: also list drafts and archived entries');
const publishStatus = z
  .enum(PUBLISH_STATUSES)
  .optional()
  .describe('Filter by publish status (with includeUnpublished)');

const page = { limit, cursor };

export const languagesQuerySchema = z.strictObject({
  ...page,
  q: q.describe('Fuzzy search on the language name; exact match on its id or ISO codes'),
  regionId: idSchema.optional(),
  includeUnpublished,
});
export type LanguagesQuery = z.infer<typeof languagesQuerySchema>;

export const bibleVersionsQuerySchema = z.strictObject({
  ...page,
  q,
  includeUnpublished,
  publishStatus,
});
export type BibleVersionsQuery = z.infer<typeof bibleVersionsQuerySchema>;

export const versionsQuerySchema = z.strictObject({
  ...page,
  q,
  languageEntityId: idSchema.optional(),
  bibleVersionId: idSchema.optional(),
  includeUnpublished,
  publishStatus,
});
export type VersionsQuery = z.infer<typeof versionsQuerySchema>;

export const pageQuerySchema = z.strictObject({ ...page, includeUnpublished });
export type PageQuery = z.infer<typeof pageQuerySchema>;

export const detailQuerySchema = z.strictObject({ includeUnpublished });

export const searchQuerySchema = z.strictObject({
  ...page,
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe(
      'Words to find (web-search syntax: "quoted phrase", or, -excluded); ranked by ts_rank',
    ),
  book: z
    .string()
    .regex(/^[A-Za-z0-9]{2,12}$/, 'must be an OSIS book id such as "John"')
    .optional()
    .describe('Only this book (OSIS id)'),
  includeUnpublished,
});
export type SearchQuery = z.infer<typeof searchQuerySchema>;

export const idParamsSchema = z.strictObject({ id: idSchema });
export const bookParamsSchema = z.strictObject({ id: idSchema, bookId: idSchema });

// ---- responses (documentation; the services build these shapes) ----

const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable(),
    total: z.number().int().optional(),
  });

export const languageSchema = z.object({
  id: z.string(),
  name: z.string(),
  iso6391: z.string().nullable(),
  iso6393: z.string().nullable(),
  regionId: z.string().nullable(),
  textVersionCount: z.number().int(),
  audioVersionCount: z.number().int(),
});
export const bibleVersionSchema = z.object({
  id: z.string(),
  name: z.string(),
  structureNotes: z.string().nullable(),
  publishStatus: z.enum(PUBLISH_STATUSES),
  bookCount: z.number().int(),
});
const versionBase = {
  id: z.string(),
  name: z.string(),
  languageEntityId: z.string(),
  languageName: z.string(),
  bibleVersionId: z.string(),
  publishStatus: z.enum(PUBLISH_STATUSES),
  updatedAt: z.string(),
};
export const textVersionSchema = z.object({
  ...versionBase,
  source: z.string().nullable(),
  verseCount: z.number().int().optional().describe('Detail view only'),
  bookCount: z.number().int().optional().describe('Detail view only'),
});
export const audioVersionSchema = z.object({
  ...versionBase,
  mediaFileCount: z.number().int().optional().describe('Detail view only'),
  totalDurationSeconds: z.number().optional().describe('Detail view only'),
});
export const bookSchema = z.object({
  id: z.string(),
  osis: z.string(),
  name: z.string(),
  bookNumber: z.number().int(),
  testament: z.enum(TESTAMENTS),
  chapterCount: z.number().int().describe('Chapters with content in this version'),
  verseCount: z.number().int().optional().describe('Text versions: verses with text'),
  mediaFileCount: z.number().int().optional().describe('Audio versions: audio files'),
  durationSeconds: z.number().optional().describe('Audio versions: total audio length'),
});
export const chapterSchema = z.object({
  id: z.string(),
  chapterNumber: z.number().int(),
  totalVerses: z.number().int(),
  verseCount: z.number().int().optional().describe('Text versions: verses with text'),
  mediaFiles: z
    .array(
      z.object({
        id: z.string(),
        durationSeconds: z.number().nullable(),
        fileSize: z.number().int().nullable(),
        format: z.string().nullable(),
        publishStatus: z.enum(PUBLISH_STATUSES),
        timingCount: z.number().int(),
      }),
    )
    .optional()
    .describe('Audio versions: the chapter audio'),
});
export const searchHitSchema = z.object({
  verseId: z.string(),
  reference: z.string().describe('e.g. "John 3:16"'),
  book: z.object({ id: z.string(), osis: z.string(), name: z.string() }),
  chapter: z.number().int(),
  verse: z.number().int(),
  text: z.string(),
  snippet: z.string().describe('Matches wrapped in <mark>…</mark>; otherwise the plain verse text'),
  rank: z.number(),
});

export const languagesPageSchema = pageOf(languageSchema);
export const bibleVersionsPageSchema = pageOf(bibleVersionSchema);
export const textVersionsPageSchema = pageOf(textVersionSchema);
export const audioVersionsPageSchema = pageOf(audioVersionSchema);
export const booksPageSchema = pageOf(bookSchema);
export const chaptersPageSchema = pageOf(chapterSchema);
export const searchPageSchema = pageOf(searchHitSchema);

export const publishResultSchema = z.object({
  id: z.string(),
  publishStatus: z.enum(PUBLISH_STATUSES),
  changed: z.boolean().describe('false when it already had this status'),
  version: z.number().int(),
  updatedAt: z.string(),
});
