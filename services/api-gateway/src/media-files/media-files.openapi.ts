import { routeGroup } from '../openapi/registry';
import {
  audioBodySchema,
  ingestQuerySchema,
  mediaFileParamsSchema,
  mediaFileSchema,
  timingsJsonSchema,
  timingsResultSchema,
  timingsSchema,
} from './media-files.schemas';

const route = routeGroup(['media-files']);

route('POST /v1/media-files', {
  summary:
    'Upload one chapter of audio (raw body, audio/mpeg or audio/mp4; type sniffed from the bytes). Streamed to the object store; the record is written only after the upload completed.',
  auth: 'editor',
  query: ingestQuerySchema,
  body: audioBodySchema,
  // The bytes decide the type; a declared audio type must agree with them.
  bodyContentType: ['audio/mpeg', 'audio/mp4', 'application/octet-stream'],
  bodyExample: 'The bytes of one chapter’s recording, e.g. JHN_003.mp3 (MPEG audio) or an M4A file',
  responses: {
    201: {
      description: 'Stored and recorded (a draft)',
      schema: mediaFileSchema,
      headers: { Location: 'The new media file' },
    },
    404: 'Unknown audio version or chapter',
    409: 'The chapter already has a file (use replace=true)',
    413: 'Larger than MEDIA_MAX_BYTES',
    415: 'Not mp3/m4a, or the Content-Type contradicts the bytes',
  },
});
route('GET /v1/media-files/{id}', {
  summary: 'One media file (drafts for editors only)',
  params: mediaFileParamsSchema,
  responses: { 200: ['The media file', mediaFileSchema], 404: 'Unknown id' },
});
route('GET /v1/media-files/{id}/verse-timings', {
  summary: 'The verse timings of a media file, in time order',
  params: mediaFileParamsSchema,
  responses: { 200: ['Timings', timingsSchema], 404: 'Unknown id' },
});
route('PUT /v1/media-files/{id}/verse-timings', {
  summary:
    'Replace the verse timings atomically. JSON as documented, or text/csv with a header row: verse_id or verse, start, end or duration (seconds or m:ss.sss).',
  auth: 'editor',
  params: mediaFileParamsSchema,
  body: timingsJsonSchema,
  responses: {
    200: ['Replaced (unchanged rows are not rewritten)', timingsResultSchema],
    404: 'Unknown id',
    415: 'Neither JSON nor CSV',
  },
});
route('DELETE /v1/media-files/{id}', {
  summary:
    'Delete a media file (soft delete: a tombstone in the change feed; never packaged again)',
  auth: 'editor',
  params: mediaFileParamsSchema,
  responses: { 204: 'Deleted', 404: 'Unknown id' },
});
for (const action of ['publish', 'unpublish'] as const) {
  route(`POST /v1/media-files/{id}/${action}`, {
    summary: `${action === 'publish' ? 'Publish' : 'Unpublish'} a media file`,
    auth: 'editor',
    params: mediaFileParamsSchema,
    responses: { 200: 'The new status', 404: 'Unknown id', 409: 'Not uploaded completely' },
  });
}
