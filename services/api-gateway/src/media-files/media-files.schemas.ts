import { z } from 'zod';
import { AUDIO_FORMATS, CHECK_STATUSES, PUBLISH_STATUSES, UPLOAD_STATUSES } from '@bible/common';
import { timingsJsonSchema } from '@bible/content';
import { idSchema } from '../content/content.schemas';

export { timingsJsonSchema };

export const ingestQuerySchema = z.strictObject({
  audioVersionId: idSchema.describe('The audio version the file belongs to'),
  chapterId: idSchema.describe('The chapter the file narrates (e.g. "john-3")'),
  startVerseId: idSchema
    .optional()
    .describe('First verse in the file (default: the first of the chapter)'),
  endVerseId: idSchema
    .optional()
    .describe('Last verse in the file (default: the last of the chapter)'),
  replace: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => v === 'true' || v === '1')
    .describe("Replace the chapter's existing file (its timings must fit the new audio)"),
});
export type IngestQuery = z.infer<typeof ingestQuerySchema>;

export const mediaFileParamsSchema = z.strictObject({ id: idSchema });

export const mediaFileSchema = z.object({
  id: z.string(),
  audioVersionId: z.string().nullable(),
  languageEntityId: z.string(),
  chapterId: z.string().nullable(),
  startVerseId: z.string().nullable(),
  endVerseId: z.string().nullable(),
  objectKey: z.string().nullable(),
  fileSize: z.number().int().nullable(),
  durationSeconds: z.number().nullable(),
  sha256: z.string().nullable(),
  format: z.enum(AUDIO_FORMATS).nullable(),
  bitrate: z.number().int().nullable(),
  sampleRate: z.number().int().nullable(),
  uploadStatus: z.enum(UPLOAD_STATUSES),
  publishStatus: z.enum(PUBLISH_STATUSES),
  checkStatus: z.enum(CHECK_STATUSES),
  timingCount: z.number().int(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const timingSchema = z.object({
  verseId: z.string(),
  verse: z.number().int(),
  start: z.number(),
  end: z.number(),
  duration: z.number(),
});

export const timingsSchema = z.object({
  mediaFileId: z.string(),
  durationSeconds: z.number(),
  timings: z.array(timingSchema),
});

export const timingsResultSchema = z.object({
  mediaFileId: z.string(),
  count: z.number().int().describe('Timings the file has now'),
  inserted: z.number().int(),
  updated: z.number().int(),
  deleted: z.number().int(),
});

export const audioBodySchema = z
  .string()
  .meta({ format: 'binary' })
  .describe('The raw audio bytes (mp3 or m4a; the type is sniffed from the bytes)');
