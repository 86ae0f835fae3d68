import { documentRoute } from '../openapi/registry';
import {
  analyticsQuerySchema,
  analyticsSchema,
  completeSessionSchema,
  conflictListSchema,
  conflictParamsSchema,
  conflictsQuerySchema,
  createSessionSchema,
  healthSchema,
  pullQuerySchema,
  pullResponseSchema,
  pushBodySchema,
  pushResponseSchema,
  resolveConflictSchema,
  resolveResponseSchema,
  sessionParamsSchema,
  sessionSchema,
} from './sync.schemas';

const tags = ['sync'];

documentRoute({
  method: 'post',
  path: '/v1/sync/sessions',
  summary: 'Start a sync session for a device',
  tags,
  body: createSessionSchema,
  responses: { 201: { description: 'The session', schema: sessionSchema } },
});
documentRoute({
  method: 'get',
  path: '/v1/sync/sessions/{id}',
  summary: 'One of the caller’s sync sessions with its counts',
  tags,
  params: sessionParamsSchema,
  responses: {
    200: { description: 'The session', schema: sessionSchema },
    404: { description: 'Unknown or another user’s session' },
  },
});
documentRoute({
  method: 'post',
  path: '/v1/sync/sessions/{id}/complete',
  summary: 'Close a session (completed or failed) with counts',
  tags,
  params: sessionParamsSchema,
  body: completeSessionSchema,
  responses: {
    200: { description: 'The closed session', schema: sessionSchema },
    404: { description: 'Unknown or another user’s session' },
    409: { description: 'CONFLICT: the session was already closed with another status' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/sync/changes',
  summary: 'Changes after a cursor in the requested audio/text version scope, in feed order, paged',
  tags,
  query: pullQuerySchema,
  responses: {
    200: {
      description: 'A page of changes; DELETEs are tombstones (data null)',
      schema: pullResponseSchema,
    },
    404: { description: 'Unknown (or, for plain users, unpublished) version' },
    409: {
      description:
        'SYNC_CURSOR_INVALID: malformed, foreign/future or expired cursor; resync from a package',
    },
  },
});
documentRoute({
  method: 'post',
  path: '/v1/sync/push',
  summary: 'Push offline mutations; idempotent per (clientId, mutationId), applied in order',
  tags,
  body: pushBodySchema,
  bodyExample: {
    sessionId: '5b0f0c1e-8a51-4c7e-9d0f-3f1a2b6c7d8e',
    clientId: 'pixel-7-5f2c',
    mutations: [
      {
        mutationId: 'pixel-7-5f2c:42',
        table: 'verse_texts',
        recordId: 'web-JHN-3-16',
        operation: 'UPDATE',
        data: { verse_text: 'For God so loved the world, that he gave his only born Son…' },
        baseVersion: 3,
        clientUpdatedAt: '2026-11-30T18:04:05.000Z',
      },
    ],
  },
  responses: {
    200: {
      description: 'Per-mutation results and the feed position after the write',
      schema: pushResponseSchema,
    },
    404: { description: 'Unknown or another user’s session' },
    409: { description: 'CONFLICT: the session is closed' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/sync/conflicts',
  summary: 'The caller’s sync conflicts, newest first',
  tags,
  query: conflictsQuerySchema,
  responses: { 200: { description: 'A page of conflicts', schema: conflictListSchema } },
});
documentRoute({
  method: 'post',
  path: '/v1/sync/conflicts/{id}/resolve',
  summary: 'Resolve one of the caller’s conflicts: client_wins | server_wins | merged (+ data)',
  tags,
  params: conflictParamsSchema,
  body: resolveConflictSchema,
  responses: {
    200: {
      description: 'The resolved conflict and the record after it',
      schema: resolveResponseSchema,
    },
    404: { description: 'Unknown or another user’s conflict' },
    409: { description: 'CONFLICT: already resolved, or the record no longer exists' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/admin/sync/analytics',
  summary: 'Daily sync totals: syncs, average changes, successes, failures, average duration',
  tags: ['admin', ...tags],
  auth: 'admin',
  query: analyticsQuerySchema,
  responses: { 200: { description: 'One row per day, newest first', schema: analyticsSchema } },
});
documentRoute({
  method: 'get',
  path: '/v1/admin/sync/health',
  summary:
    'Sync health: pending, failed, oldest pending, average sync time, conflict rate, relay lag',
  tags: ['admin', ...tags],
  auth: 'admin',
  responses: {
    200: {
      description: 'Current figures and alert flags (pending > 100, failed > 10)',
      schema: healthSchema,
    },
  },
});
