import { z } from 'zod';
import { CHANGE_LOG_TABLES, PACKAGE_TYPES } from '../database/constants';
import type { TraceCarrier } from '../queues/queues';

/**
 * Event types stored in the `events` outbox. `webhook.test` is not one: the notifier sends it
 * straight to an endpoint and never stores it.
 */
export const EVENT_TYPES = [
  'package.ready',
  'package.failed',
  'content.changed',
  'sync.conflict',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const operationCounts = z
  .object({
    inserted: z.number().int().min(0),
    updated: z.number().int().min(0),
    deleted: z.number().int().min(0),
  })
  .describe('Changes of one table in the batch, by operation');

/** `data` of each event type: the schemas document the webhooks in OpenAPI and check producers in tests. */
export const eventDataSchemas = {
  'package.ready': z
    .object({
      packageId: z.string().describe('Download with GET /v1/packages/{packageId}/download'),
      packageKey: z.string().describe('Content key shared by every build of the same request'),
      type: z.enum(PACKAGE_TYPES),
      part: z.number().int().min(1).nullable().describe('Part number in a chunked series'),
      partCount: z.number().int().min(1).nullable().describe('Parts in the series'),
      sizeBytes: z.number().int().min(0),
      contentSha256: z.string().describe('sha256 (hex) of the whole .bible file'),
      contentRevision: z.string().describe('Change-feed revision the package was built at'),
      requestIds: z.array(z.uuid()).describe('package_requests completed by this build'),
      requestedBy: z.array(z.string()).describe('User ids of the requesters'),
    })
    .describe('A package (or one part of a chunked series) was published'),
  'package.failed': z
    .object({
      packageKey: z.string(),
      jobId: z.string().describe('Build job id (GET /v1/packages/jobs/{jobId})'),
      requestIds: z.array(z.uuid()),
      requestedBy: z.array(z.string()),
      reason: z.string().describe('The recorded failure reason'),
      errorCode: z.string().describe('Stable failure class, e.g. AUDIO_MISSING, BUILD_ERROR'),
      attempts: z.number().int().min(1).describe('Attempts made, the last one included'),
    })
    .describe('A package build failed for good (last attempt, or a failure retrying cannot fix)'),
  'content.changed': z
    .object({
      scope: z.enum(['text', 'audio']),
      versionId: z.string().describe('The text version or audio version that changed'),
      fromRevision: z
        .string()
        .describe('Sync cursor before the first change (pull with after=fromRevision)'),
      toRevision: z.string().describe('Sync cursor of the last change of the batch'),
      counts: z
        .partialRecord(z.enum(CHANGE_LOG_TABLES), operationCounts)
        .describe('Per table, the changes by operation'),
      bookIds: z.array(z.string()).describe('Books touched (sorted)'),
      changeCount: z.number().int().min(1),
    })
    .describe('Content of one text or audio version changed (coalesced per relay batch)'),
  'sync.conflict': z
    .object({
      conflictId: z.uuid().describe('GET /v1/sync/conflicts/{conflictId}'),
      table: z.string(),
      recordId: z.string(),
      userId: z.string().describe('The editor whose mutation conflicted'),
      deviceId: z.string().nullable(),
      sessionId: z.uuid().nullable(),
    })
    .describe('A pushed mutation conflicted with the server copy'),
} as const satisfies Record<EventType, z.ZodType>;

export type EventData = { [T in EventType]: z.infer<(typeof eventDataSchemas)[T]> };
export type PackageReadyData = EventData['package.ready'];
export type PackageFailedData = EventData['package.failed'];
export type ContentChangedData = EventData['content.changed'];
export type SyncConflictData = EventData['sync.conflict'];

/** An event to write; `userId` is the user it concerns (requester, editor), if any. */
export type NewEvent = {
  [T in EventType]: { type: T; data: EventData[T]; userId?: string | null; trace?: TraceCarrier };
}[EventType];

export type NewEventOf<T extends EventType> = Extract<NewEvent, { type: T }>;

/** A stored event as the feed reads it. */
export interface StoredEvent {
  id: string;
  seq: string;
  txid: string;
  type: EventType;
  data: Record<string, unknown>;
  userId: string | null;
  trace: TraceCarrier | null;
  createdAt: Date;
}

/** Standard Webhooks payload: what receivers get and what the feed lists. */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}
