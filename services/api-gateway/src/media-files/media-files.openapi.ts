import { documentRoute } from '../openapi/registry';
import {
  audioBodySchema,
  ingestQuerySchema,
  mediaFileParamsSchema,
  mediaFileSchema,
  timingsJsonSchema,
  timingsResultSchema,
  timingsSchema,
} from './media-files.schemas';

const tags = ['media-files'];

documentRoute({
  method: 'post',
  path: '/v1/media-files',
  summary:
    'Upload one chapter of audio (raw body, audio/mpeg or audio/mp4; type sniffed from the bytes). Streamed to the object store; the record is written only after the upload completed.',
  tags,
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
    404: { description: 'Unknown audio version or chapter' },
    409: { description: 'The chapter already has a file (use replace=true)' },
    413: { description: 'Larger than MEDIA_MAX_BYTES' },
    415: { description: 'Not mp3/m4a, or the Content-Type contradicts the bytes' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/media-files/{id}',
  summary: 'One media file (drafts for editors only)',
  tags,
  params: mediaFileParamsSchema,
  responses: {
    200: { description: 'The media file', schema: mediaFileSchema },
    404: { description: 'Unknown id' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/media-files/{id}/verse-timings',
  summary: 'The verse timings of a media file, in time order',
  tags,
  params: mediaFileParamsSchema,
  responses: {
    200: { description: 'Timings', schema: timingsSchema },
    404: { description: 'Unknown id' },
  },
});
documentRoute({
  method: 'put',
  path: '/v1/media-files/{id}/verse-timings',
  summary:
    'Replace the verse timings atomically. JSON as documented, or text/csv with a header row: verse_id or verse, start, end or duration (seconds or m:ss.sss).',
  tags,
  auth: 'editor',
  params: mediaFileParamsSchema,
  body: timingsJsonSchema,
  responses: {
    200: {
      description: 'Replaced (unchanged rows are not rewritten)',
      schema: timingsResultSchema,
    },
    404: { description: 'Unknown id' },
    415: { description: 'Neither JSON nor CSV' },
  },
});
documentRoute({
  method: 'delete',
  path: '/v1/media-files/{id}',
  summary:
    'Delete a media file (soft delete: a tombstone in the change feed; never packaged again)',
  tags,
  auth: 'editor',
  params: mediaFileParamsSchema,
  responses: { 204: { description: 'Deleted' }, 404: { description: 'Unknown id' } },
});
for (const action of ['publish', 'unpublish'] as const) {
  documentRoute({
    method: 'post',
    path: `/v1/media-files/{id}/${action}`,
    summary: `${action === 'publish' ? 'Publish' : 'Unpublish'} a media file`,
    tags,
    auth: 'editor',
    params: mediaFileParamsSchema,
    responses: {
      200: { description: 'The new status' },
      404: { description: 'Unknown id' },
      409: { description: 'Not uploaded completely' },
    },
  });
}
