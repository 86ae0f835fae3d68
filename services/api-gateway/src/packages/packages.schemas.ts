import { z } from 'zod';
import { PACKAGE_TYPES } from '@bible/common';
import { CHUNKING_STRATEGIES } from '@bible/packages';
import { ManifestBaseSchema } from '@bible/package-format';

const id = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9._-]');

export const packageIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9._-]');

/** Body of POST /v1/packages (also the query of GET /v1/packages/download, minus books/chunking). */
export const packageRequestSchema = z
  .strictObject({
    packageType: z.enum(PACKAGE_TYPES),
    languageEntityId: id,
    audioVersionId: id.optional(),
    textVersionId: id.optional(),
    books: z
      .array(
        z.string().regex(/^[A-Za-z0-9]{2,12}$/, 'must be an OSIS book id such as "John" or "1Sam"'),
      )
      .min(1)
      .max(100)
      .optional(),
    chunking: z
      .strictObject({
        strategy: z.enum(CHUNKING_STRATEGIES),
        maxSizeMB: z.number().positive().max(4096).optional(),
      })
      // The size strategy needs maxSizeMB (refined below), stated for the OpenAPI document.
      .meta({
        anyOf: [
          { properties: { strategy: { const: 'size' } }, required: ['maxSizeMB'] },
          { properties: { strategy: { enum: ['testament', 'book_group'] } } },
        ],
      })
      .optional(),
    allowPartial: z
      .boolean()
      .optional()
      .describe('Build even if some audio sources are missing; the manifest lists them'),
    basePackageId: packageIdSchema
      .optional()
      .describe(
        'A full package the client holds: the answer is then the cheapest way from it to the current revision (a delta package, or a full one with a reason)',
      )
      .meta({ examples: ['swh-swhnt-audio-r812'] }),
  })
  .superRefine((value, ctx) => {
    if (value.packageType !== 'text' && !value.audioVersionId) {
      ctx.addIssue({
        code: 'custom',
        path: ['audioVersionId'],
        message: `is required for ${value.packageType} packages`,
      });
    }
    if (value.packageType !== 'audio' && !value.textVersionId) {
      ctx.addIssue({
        code: 'custom',
        path: ['textVersionId'],
        message: `is required for ${value.packageType} packages`,
      });
    }
    if (value.packageType === 'text' && value.audioVersionId) {
      ctx.addIssue({
        code: 'custom',
        path: ['audioVersionId'],
        message: 'must be absent for text packages',
      });
    }
    if (value.packageType === 'audio' && value.textVersionId) {
      ctx.addIssue({
        code: 'custom',
        path: ['textVersionId'],
        message: 'must be absent for audio packages',
      });
    }
    if (value.chunking?.strategy === 'size' && value.chunking.maxSizeMB === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['chunking', 'maxSizeMB'],
        message: 'is required for the size strategy',
      });
    }
  })
  // The refinements above in JSON Schema, which the OpenAPI conversion cannot derive from them.
  .meta({
    oneOf: [
      {
        properties: { packageType: { const: 'text' }, audioVersionId: false },
        required: ['textVersionId'],
      },
      {
        properties: { packageType: { const: 'audio' }, textVersionId: false },
        required: ['audioVersionId'],
      },
      {
        properties: { packageType: { const: 'combined' } },
        required: ['audioVersionId', 'textVersionId'],
      },
    ],
  });
export type PackageRequestBody = z.infer<typeof packageRequestSchema>;

export const downloadByContentQuerySchema = z.strictObject({
  packageType: z.enum(PACKAGE_TYPES),
  languageEntityId: id,
  audioVersionId: id.optional(),
  textVersionId: id.optional(),
  redirect: z.enum(['0', '1', 'true', 'false']).optional(),
});

export const jobIdParamsSchema = z.strictObject({
  jobId: z.string().regex(/^pkg-[a-z0-9_-]{1,100}$/, 'is not a package job id'),
});

export const packageIdParamsSchema = z.strictObject({ packageId: packageIdSchema });

export const limitSchema = z.coerce.number().int().min(1).max(200).default(50);

export const catalogQuerySchema = z.strictObject({
  languageEntityId: id.optional(),
  packageType: z.enum(PACKAGE_TYPES).optional(),
  limit: limitSchema,
  cursor: z.string().max(200).optional(),
});

export const downloadQuerySchema = z.strictObject({
  redirect: z.enum(['0', '1', 'true', 'false']).optional(),
  expiresIn: z.coerce
    .number()
    .int()
    .min(60)
    .max(168 * 3600)
    .optional()
    .describe('Presigned URL lifetime in seconds (max 168 h)'),
});

// ---- responses (documentation; the handlers build these shapes) ----

/** The manifest schema of the format library, so the API documents exactly what packages carry. */
export const manifestSchema = ManifestBaseSchema.describe(
  'The package manifest (see docs/package-format.md)',
);

export const partSchema = z.object({
  packageId: z.string(),
  partNumber: z.number().int(),
  totalParts: z.number().int(),
  sizeBytes: z.number().int(),
  downloadUrl: z.string(),
  contentRange: z.object({ startBook: z.string(), endBook: z.string() }).optional(),
});

export const packageReadySchema = z.object({
  packageId: z.string(),
  status: z.literal('ready'),
  downloadUrl: z.string(),
  manifest: manifestSchema,
  parts: z
    .array(partSchema)
    .optional()
    .describe('Every part when the request was chunked into a series'),
});

export const jobAcceptedSchema = z.object({
  jobId: z.string(),
  packageId: z.string().optional(),
  status: z.enum(['queued', 'active']),
  statusUrl: z.string(),
});

export const UPDATE_REASONS = [
  'base_unknown',
  'base_expired',
  'base_is_delta',
  'base_other_content',
  'partial_package',
  'delta_too_large',
] as const;
export type UpdateReason = (typeof UPDATE_REASONS)[number];

/** Added to the answers of an update request (one with basePackageId). */
export const updateFieldsSchema = z.object({
  updateKind: z
    .enum(['delta', 'full'])
    .describe('delta: apply it to the base (bible-package apply); full: replace the base'),
  reason: z
    .enum(UPDATE_REASONS)
    .optional()
    .describe('Why a full package is the answer (absent for deltas)'),
  basePackageId: z.string(),
});

export const updateReadySchema = packageReadySchema.extend(updateFieldsSchema.shape);
export const updateAcceptedSchema = jobAcceptedSchema.extend(updateFieldsSchema.shape).meta({
  examples: [
    {
      jobId: 'pkg-3f2a9c0d1e4b5a6978c0d1e2-1300_905-from-1200_812',
      packageId: 'swh-swhnt-audio-r905-from-1200.812',
      status: 'queued',
      statusUrl: '/v1/packages/jobs/pkg-3f2a9c0d1e4b5a6978c0d1e2-1300_905-from-1200_812',
      updateKind: 'delta',
      basePackageId: 'swh-swhnt-audio-r812',
    },
    {
      jobId: 'pkg-3f2a9c0d1e4b5a6978c0d1e2-1300_905',
      packageId: 'swh-swhnt-audio-r905',
      status: 'queued',
      statusUrl: '/v1/packages/jobs/pkg-3f2a9c0d1e4b5a6978c0d1e2-1300_905',
      updateKind: 'full',
      reason: 'delta_too_large',
      basePackageId: 'swh-swhnt-audio-r812',
    },
  ],
});
export const upToDateSchema = z
  .object({
    upToDate: z.literal(true),
    packageId: z.string().describe('The package the client holds, which is current'),
  })
  .meta({ examples: [{ upToDate: true, packageId: 'swh-swhnt-audio-r905' }] });

export const jobStatusSchema = z.object({
  jobId: z.string(),
  status: z.enum(['queued', 'active', 'completed', 'failed']),
  progress: z.number().min(0).max(100),
  stage: z.string(),
  packageId: z.string().optional(),
  parts: z.array(partSchema).optional(),
  error: z.string().optional(),
  attempts: z.number().int().optional(),
});

export const packageSummarySchema = z.object({
  packageId: z.string(),
  packageType: z.enum(PACKAGE_TYPES),
  languageEntityId: z.string(),
  audioVersionId: z.string().nullable(),
  textVersionId: z.string().nullable(),
  contentRevision: z.string(),
  status: z.enum(['ready', 'stale']),
  sizeBytes: z.number().int(),
  contentSha256: z.string(),
  seriesId: z.string().nullable(),
  partNumber: z.number().int().nullable(),
  totalParts: z.number().int().nullable(),
  createdAt: z.string(),
  downloadUrl: z.string(),
});

export const packageDetailSchema = packageSummarySchema.extend({ manifest: manifestSchema });

export const catalogSchema = z.object({
  items: z.array(packageSummarySchema),
  nextCursor: z.string().nullable(),
  total: z.number().int().optional(),
});

export const keysSchema = z.object({
  keys: z.array(
    z.object({
      keyId: z.string(),
      algorithm: z.literal('Ed25519'),
      publicKey: z.string(),
      publicKeyPem: z.string(),
    }),
  ),
});
