import { z } from 'zod';
import { documentRoute } from '../openapi/registry';
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

const tags = ['packages'];
const downloadHeaders = {
  ETag: 'Strong ETag: the hex contentSha256 of the package',
  'Accept-Ranges': 'bytes',
  'Content-Disposition': 'attachment; filename="<packageId>.bible"',
  'X-Served-From': 'cache | generated (the first download of a freshly built package)',
};

documentRoute({
  method: 'post',
  path: '/v1/packages',
  summary: 'Request a package; answers the current one or queues one shared build',
  tags,
  body: packageRequestSchema,
  bodyExample: {
    packageType: 'combined',
    languageEntityId: 'eng',
    textVersionId: 'web',
    audioVersionId: 'web-audio-john',
    books: ['John'],
  },
  responses: {
    200: {
      description:
        'The package already exists at the current content revision. With basePackageId: the delta (updateKind delta) or full package (updateKind full, reason) to update with, or { upToDate: true } when the base is current',
      schema: z.union([packageReadySchema, updateReadySchema, upToDateSchema]),
    },
    202: {
      description:
        'A build is queued (identical requests share it); with basePackageId it carries updateKind (and reason for a full package)',
      schema: z.union([jobAcceptedSchema, updateAcceptedSchema]),
    },
    400: { description: 'Invalid body, e.g. a malformed basePackageId (field details)' },
    404: { description: 'Unknown language or version' },
    409: { description: 'PKG_VERSION_NOT_PUBLISHED' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/packages/{packageId}/update',
  summary:
    'Is there an update for the package a client holds? Up to date, a delta, or a full package',
  tags,
  params: packageIdParamsSchema,
  responses: {
    200: {
      description:
        'Up to date, or the ready delta (updateKind delta) or full package (updateKind full, reason)',
      schema: z.union([upToDateSchema, updateReadySchema]),
    },
    202: { description: 'The delta or full package is being built', schema: updateAcceptedSchema },
    400: { description: 'Malformed packageId' },
    404: { description: 'Not a package of this server' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/packages/jobs/{jobId}',
  summary: 'Build status',
  tags,
  params: jobIdParamsSchema,
  responses: {
    200: { description: 'Status', schema: jobStatusSchema },
    404: { description: 'Unknown job' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/packages/jobs/{jobId}/events',
  summary: 'Build status as Server-Sent Events until completion',
  tags,
  params: jobIdParamsSchema,
  responses: {
    200: {
      description:
        "Events `progress`, then `completed` or `failed`; each event's data is the job status (JSON)",
      contentType: 'text/event-stream',
      schema: z.object({
        id: z.string().describe('Event sequence number, for Last-Event-ID'),
        event: z.enum(['progress', 'completed', 'failed']),
        data: z.string().describe('The job status as JSON (see GET /v1/packages/jobs/{jobId})'),
      }),
    },
    404: { description: 'Unknown job' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/packages',
  summary: 'Catalog of built packages',
  tags,
  query: catalogQuerySchema,
  responses: { 200: { description: 'A page of packages', schema: catalogSchema } },
});
documentRoute({
  method: 'get',
  path: '/v1/packages/keys',
  summary: 'Public Ed25519 keys that sign packages',
  tags,
  auth: 'none',
  responses: { 200: { description: 'Keys', schema: keysSchema } },
});
documentRoute({
  method: 'get',
  path: '/v1/packages/download',
  summary: 'Download the current package for some content, or 202 while it builds',
  tags,
  query: downloadByContentQuerySchema,
  responses: {
    200: {
      description: 'The package bytes',
      contentType: 'application/octet-stream',
      headers: downloadHeaders,
    },
    202: { description: 'Building; retry after Retry-After seconds', schema: jobAcceptedSchema },
    404: { description: 'Unknown language or version' },
    409: { description: 'The version is not published' },
    503: {
      description: 'The object store cannot be read or too many downloads are open (Retry-After)',
    },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/packages/{packageId}',
  summary: 'Package metadata and manifest',
  tags,
  params: packageIdParamsSchema,
  responses: {
    200: { description: 'The package', schema: packageDetailSchema },
    404: { description: 'Unknown package' },
  },
});
for (const method of ['get', 'head'] as const) {
  documentRoute({
    method,
    path: '/v1/packages/{packageId}/download',
    summary:
      'The .bible bytes, with byte ranges (RFC 9110), conditional requests and optional redirect',
    tags,
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
      302: { description: 'Redirect to a presigned object-store URL (?redirect=1)' },
      304: { description: 'If-None-Match matched' },
      404: { description: 'Unknown package' },
      410: { description: 'Published, but its bytes are no longer stored' },
      416: { description: 'Range not satisfiable' },
      503: {
        description:
          'The object store cannot be read, or this gateway has its maximum of object-store streams open (Retry-After)',
      },
    },
  });
}
