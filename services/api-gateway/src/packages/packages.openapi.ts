import { z } from 'zod';
import { routeGroup } from '../openapi/registry';
import {
  catalogQuerySchema,
  catalogSchema,
  downloadByContentQuerySchema,
  downloadQuerySchema,
  jobAcceptedSchema,
  jobIdParamsSchema,
  jobStatusSchema,
  keysSchema,
  packageDetailSchema,
  packageIdParamsSchema,
  packageReadySchema,
  packageRequestSchema,
  upToDateSchema,
  updateAcceptedSchema,
  updateReadySchema,
} from './packages.schemas';

const route = routeGroup(['packages']);
const downloadHeaders = {
  ETag: 'Strong ETag: the hex contentSha256 of the package',
  'Accept-Ranges': 'bytes',
  'Content-Disposition': 'attachment; filename="<packageId>.bible"',
  'X-Served-From': 'cache | generated (the first download of a freshly built package)',
};

route('POST /v1/packages', {
  summary: 'Request a package; answers the current one or queues one shared build',
  body: packageRequestSchema,
  bodyExample: {
    packageType: 'combined',
    languageEntityId: 'eng',
    textVersionId: 'web',
    audioVersionId: 'web-audio-john',
    books: ['John'],
  },
  responses: {
    200: [
      'The package already exists at the current content revision. With basePackageId: the delta (updateKind delta) or full package (updateKind full, reason) to update with, or { upToDate: true } when the base is current',
      z.union([packageReadySchema, updateReadySchema, upToDateSchema]),
    ],
    202: [
      'A build is queued (identical requests share it); with basePackageId it carries updateKind (and reason for a full package)',
      z.union([jobAcceptedSchema, updateAcceptedSchema]),
    ],
    400: 'Invalid body, e.g. a malformed basePackageId (field details)',
    404: 'Unknown language or version',
    409: 'PKG_VERSION_NOT_PUBLISHED',
  },
});
route('GET /v1/packages/{packageId}/update', {
  summary:
    'Is there an update for the package a client holds? Up to date, a delta, or a full package',
  params: packageIdParamsSchema,
  responses: {
    200: [
      'Up to date, or the ready delta (updateKind delta) or full package (updateKind full, reason)',
      z.union([upToDateSchema, updateReadySchema]),
    ],
    202: ['The delta or full package is being built', updateAcceptedSchema],
    400: 'Malformed packageId',
    404: 'Not a package of this server',
  },
});
route('GET /v1/packages/jobs/{jobId}', {
  summary: 'Build status',
  params: jobIdParamsSchema,
  responses: { 200: ['Status', jobStatusSchema], 404: 'Unknown job' },
});
route('GET /v1/packages/jobs/{jobId}/events', {
  summary: 'Build status as Server-Sent Events until completion',
  params: jobIdParamsSchema,
  responses: {
    200: {
      description:
        "Events `progress`, then `completed` or `failed`; each event's data is the job status (JSON). A stream still open after SSE_MAX_STREAM_SECONDS (default 300 s) ends without a terminal event: reconnect with Last-Event-ID, which loses nothing",
      contentType: 'text/event-stream',
      schema: z.object({
        id: z.string().describe('Event sequence number, for Last-Event-ID'),
        event: z.enum(['progress', 'completed', 'failed']),
        data: z.string().describe('The job status as JSON (see GET /v1/packages/jobs/{jobId})'),
      }),
    },
    404: 'Unknown job',
  },
});
route('GET /v1/packages', {
  summary: 'Catalog of built packages',
  query: catalogQuerySchema,
  responses: { 200: ['A page of packages', catalogSchema] },
});
route('GET /v1/packages/keys', {
  summary: 'Public Ed25519 keys that sign packages',
  auth: 'none',
  responses: { 200: ['Keys', keysSchema] },
});
route('GET /v1/packages/download', {
  summary: 'Download the current package for some content, or 202 while it builds',
  query: downloadByContentQuerySchema,
  responses: {
    200: {
      description: 'The package bytes',
      contentType: 'application/octet-stream',
      headers: downloadHeaders,
    },
    202: ['Building; retry after Retry-After seconds', jobAcceptedSchema],
    404: 'Unknown language or version',
    409: 'The version is not published',
    503: 'The object store cannot be read or too many downloads are open (Retry-After)',
  },
});
route('GET /v1/packages/{packageId}', {
  summary: 'Package metadata and manifest',
  params: packageIdParamsSchema,
  responses: { 200: ['The package', packageDetailSchema], 404: 'Unknown package' },
});
for (const method of ['GET', 'HEAD'] as const) {
  route(`${method} /v1/packages/{packageId}/download`, {
    summary:
      'The .bible bytes, with byte ranges (RFC 9110), conditional requests and optional redirect',
    params: packageIdParamsSchema,
    query: downloadQuerySchema,
    responses: {
      200: {
        description: 'The whole package',
        contentType: 'application/octet-stream',
        headers: downloadHeaders,
      },
      206: {
        description: 'One byte range (Content-Range)',
        contentType: 'application/octet-stream',
        headers: downloadHeaders,
      },
      302: 'Redirect to a presigned object-store URL (?redirect=1)',
      304: 'If-None-Match matched',
      404: 'Unknown package',
      410: 'Published, but its bytes are no longer stored',
      416: 'Range not satisfiable',
      503: 'The object store cannot be read, or this gateway has its maximum of object-store streams open (Retry-After)',
    },
  });
}
