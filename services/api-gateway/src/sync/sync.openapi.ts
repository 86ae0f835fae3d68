import { routeGroup } from '../openapi/registry';
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

const route = routeGroup(['sync']);

route('POST /v1/sync/sessions', {
  summary: 'Start a sync session for a device',
  body: createSessionSchema,
  responses: { 201: ['The session', sessionSchema] },
});
route('GET /v1/sync/sessions/{id}', {
  summary: 'One of the caller’s sync sessions with its counts',
  params: sessionParamsSchema,
  responses: { 200: ['The session', sessionSchema], 404: 'Unknown or another user’s session' },
});
route('POST /v1/sync/sessions/{id}/complete', {
  summary: 'Close a session (completed or failed) with counts',
  params: sessionParamsSchema,
  body: completeSessionSchema,
  responses: {
    200: ['The closed session', sessionSchema],
    404: 'Unknown or another user’s session',
    409: 'CONFLICT: the session was already closed with another status',
  },
});
route('GET /v1/sync/changes', {
  summary: 'Changes after a cursor in the requested audio/text version scope, in feed order, paged',
  query: pullQuerySchema,
  responses: {
    200: ['A page of changes; DELETEs are tombstones (data null)', pullResponseSchema],
    404: 'Unknown (or, for plain users, unpublished) version',
    409: 'SYNC_CURSOR_INVALID: malformed, foreign/future or expired cursor; resync from a package',
  },
});
route('POST /v1/sync/push', {
  summary: 'Push offline mutations; idempotent per (clientId, mutationId), applied in order',
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
    200: ['Per-mutation results and the feed position after the write', pushResponseSchema],
    404: 'Unknown or another user’s session',
    409: 'CONFLICT: the session is closed',
  },
});
route('GET /v1/sync/conflicts', {
  summary: 'The caller’s sync conflicts, newest first',
  query: conflictsQuerySchema,
  responses: { 200: ['A page of conflicts', conflictListSchema] },
});
route('POST /v1/sync/conflicts/{id}/resolve', {
  summary: 'Resolve one of the caller’s conflicts: client_wins | server_wins | merged (+ data)',
  params: conflictParamsSchema,
  body: resolveConflictSchema,
  responses: {
    200: ['The resolved conflict and the record after it', resolveResponseSchema],
    404: 'Unknown or another user’s conflict',
    409: 'CONFLICT: already resolved, or the record no longer exists',
  },
});
route('GET /v1/admin/sync/analytics', {
  summary: 'Daily sync totals: syncs, average changes, successes, failures, average duration',
  tags: ['admin', 'sync'],
  auth: 'admin',
  query: analyticsQuerySchema,
  responses: { 200: ['One row per day, newest first', analyticsSchema] },
});
route('GET /v1/admin/sync/health', {
  summary:
    'Sync health: pending, failed, oldest pending, average sync time, conflict rate, relay lag',
  tags: ['admin', 'sync'],
  auth: 'admin',
  responses: {
    200: ['Current figures and alert flags (pending > 100, failed > 10)', healthSchema],
  },
});
