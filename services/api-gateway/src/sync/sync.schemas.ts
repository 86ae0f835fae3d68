import { z } from 'zod';
import { CHANGE_OPERATIONS, CONFLICT_RESOLUTIONS } from '@bible/common';
import { PG_INT4_MAX, pgTimestamp } from '../common/pg-types';

/** Ids of versions, records and clients as the catalog spells them. */
const id = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9._-]');
const clientKey = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9._:-]');
const column = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a column name');
// Postgres text cannot store NUL: the validation pipe refuses it in every string; the pattern
// states that in the document for the one free-text field of a push.
const scalar = z.union([
  z.string().max(100_000).meta({ pattern: '^[^\\u0000]*$' }),
  z.number(),
  z.boolean(),
  z.null(),
]);
const isoTime = pgTimestamp();

/** Changes per page: bulk sync pages are larger than ordinary lists (see docs/sync.md). */
export const PULL_DEFAULT_LIMIT = 1_000;
export const PULL_MAX_LIMIT = 5_000;
export const PUSH_MAX_MUTATIONS = 500;

export const pullQuerySchema = z
  .strictObject({
    cursor: z
      .string()
      .max(200)
      .optional()
      .describe(
        "A package's syncCursor or a previous nextCursor; omitted: the start of the retained feed",
      ),
    audioVersionId: id.optional(),
    textVersionId: id.optional(),
    limit: z.coerce.number().int().min(1).max(PULL_MAX_LIMIT).default(PULL_DEFAULT_LIMIT),
    sessionId: z.uuid().optional().describe('Counts the delivered changes on this sync session'),
  })
  .superRefine((q, ctx) => {
    if (!q.audioVersionId && !q.textVersionId) {
      for (const path of ['audioVersionId', 'textVersionId']) {
        ctx.addIssue({
          code: 'custom',
          path: [path],
          message: 'give audioVersionId and/or textVersionId',
        });
      }
    }
  });
export type PullQuery = z.infer<typeof pullQuerySchema>;

export const mutationSchema = z
  .strictObject({
    mutationId: clientKey,
    table: column.describe('Server table name, e.g. verse_texts'),
    recordId: id,
    operation: z.enum(CHANGE_OPERATIONS),
    data: z
      .record(column, scalar)
      .meta({ description: 'Changed columns by server column name', maxProperties: 64 })
      .optional(),
    baseVersion: z
      .number()
      .int()
      .min(1)
      .max(PG_INT4_MAX)
      .optional()
      .describe('The server version the client edited'),
    clientUpdatedAt: isoTime,
  })
  .superRefine((m, ctx) => {
    if (m.operation !== 'DELETE' && (!m.data || Object.keys(m.data).length === 0)) {
      ctx.addIssue({ code: 'custom', path: ['data'], message: `is required for ${m.operation}` });
    }
    if (m.data && Object.keys(m.data).length > 64) {
      ctx.addIssue({ code: 'custom', path: ['data'], message: 'has more than 64 columns' });
    }
  })
  // The first rule above in JSON Schema, which the OpenAPI conversion cannot derive from it.
  .meta({
    anyOf: [
      { properties: { operation: { const: 'DELETE' } } },
      { properties: { data: { minProperties: 1 } }, required: ['data'] },
    ],
  });
export type MutationInput = z.infer<typeof mutationSchema>;

/**
 * A mutationId names one mutation of its client: a repeat, later in the same push or in another
 * push, is answered with the first occurrence's result and never applied twice (docs/sync.md).
 */
export const pushBodySchema = z.strictObject({
  sessionId: z.uuid(),
  clientId: clientKey,
  mutations: z.array(mutationSchema).min(1).max(PUSH_MAX_MUTATIONS),
});
export type PushBody = z.infer<typeof pushBodySchema>;

export const createSessionSchema = z.strictObject({
  deviceId: z.string().min(1).max(128),
  packageId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 characters of [A-Za-z0-9._-]')
    .optional(),
  cursor: z.string().max(200).optional().describe('The cursor the client starts from (recorded)'),
});
export type CreateSessionBody = z.infer<typeof createSessionSchema>;

export const completeSessionSchema = z.strictObject({
  status: z.enum(['completed', 'failed']).default('completed'),
  changesDownloaded: z.number().int().min(0).max(2_000_000_000).optional(),
  cursor: z.string().max(200).optional().describe('The cursor the client ended at (recorded)'),
  error: z.string().max(2_000).optional(),
});
export type CompleteSessionBody = z.infer<typeof completeSessionSchema>;

export const sessionParamsSchema = z.strictObject({ id: z.uuid() });
export const conflictParamsSchema = z.strictObject({ id: z.uuid() });

export const conflictsQuerySchema = z.strictObject({
  status: z.enum(['open', 'resolved', 'all']).default('open'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type ConflictsQuery = z.infer<typeof conflictsQuerySchema>;

/** Stated as alternatives so the document says exactly which body each resolution takes. */
export const resolveConflictSchema = z.discriminatedUnion('resolution', [
  z.strictObject({ resolution: z.enum(['client_wins', 'server_wins']) }),
  z.strictObject({
    resolution: z.literal('merged'),
    data: z
      .record(column, scalar)
      .refine((d) => Object.keys(d).length > 0, 'is required for the merged resolution')
      .meta({ minProperties: 1 })
      .describe('The merged record'),
  }),
]);
export type ResolveConflictBody = z.infer<typeof resolveConflictSchema>;

export const analyticsQuerySchema = z.strictObject({
  days: z.coerce.number().int().min(1).max(366).default(30),
});

// ---- responses (documentation; the handlers build these shapes) ----

const record = z.record(z.string(), z.unknown());

export const changeSchema = z.object({
  table: z.string(),
  recordId: z.string(),
  operation: z.enum(CHANGE_OPERATIONS),
  data: record
    .nullable()
    .describe('The row after the change (server column names); null for a DELETE tombstone'),
  version: z.number().int().nullable().describe("The record's server version after the change"),
  changedAt: z.string(),
});

export const pullResponseSchema = z.object({
  changes: z.array(changeSchema),
  nextCursor: z.string(),
  hasMore: z.boolean(),
});

export const mutationResultSchema = z.object({
  mutationId: z.string(),
  result: z.enum(['applied', 'rejected', 'conflict', 'ignored']),
  version: z.number().int().optional().describe('Server version of the record after the mutation'),
  serverRecord: record.optional(),
  conflictId: z.uuid().optional(),
  merged: z.array(z.string()).optional(),
  discarded: z.array(z.string()).optional(),
  noop: z.boolean().optional(),
  retryable: z.boolean().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const pushResponseSchema = z.object({
  results: z.array(mutationResultSchema),
  cursor: z.string().describe('Feed position after this push (see docs/sync.md: read-your-writes)'),
});

export const sessionSchema = z.object({
  sessionId: z.uuid(),
  deviceId: z.string(),
  packageId: z.string().nullable(),
  status: z.enum(['active', 'completed', 'failed', 'expired']),
  startedAt: z.string(),
  completedAt: z.string().nullable(),
  changesDownloaded: z.number().int(),
  changesUploaded: z.number().int(),
  conflictsCount: z.number().int(),
});

export const conflictSchema = z.object({
  conflictId: z.uuid(),
  table: z.string(),
  recordId: z.string(),
  mutationId: z.string().nullable(),
  baseVersion: z.number().int().nullable(),
  serverVersion: z.number().int().nullable(),
  clientData: record.nullable(),
  serverData: record.nullable(),
  resolution: z.enum(CONFLICT_RESOLUTIONS).nullable(),
  resolvedData: record.nullable(),
  createdAt: z.string(),
  resolvedAt: z.string().nullable(),
});

export const conflictListSchema = z.object({
  items: z.array(conflictSchema),
  nextCursor: z.string().nullable(),
});

export const resolveResponseSchema = z.object({
  conflict: conflictSchema,
  serverRecord: record.nullable(),
  cursor: z.string(),
});

export const analyticsSchema = z.object({
  days: z.number().int(),
  items: z.array(
    z.object({
      date: z.string(),
      totalSyncs: z.number().int(),
      averageChanges: z.number(),
      successfulSyncs: z.number().int(),
      failedSyncs: z.number().int(),
      averageDurationSeconds: z.number().nullable(),
    }),
  ),
});

export const healthSchema = z.object({
  pending: z.number().int(),
  failed: z.number().int().describe('Mutations whose last attempt failed within the last hour'),
  failedTotal: z.number().int().describe('Every mutation still in the failed state'),
  oldestPendingSeconds: z.number().nullable(),
  averageSyncSeconds: z.number().nullable(),
  conflictRate: z.number(),
  mutations24h: z.number().int(),
  openConflicts: z.number().int(),
  relay: z.object({
    lagSeconds: z.number(),
    relayedCount: z.number().int(),
    updatedAt: z.string().nullable(),
  }),
  alerts: z.object({ pendingHigh: z.boolean(), failedHigh: z.boolean() }),
});
