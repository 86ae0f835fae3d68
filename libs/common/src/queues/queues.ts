import { createHash } from 'node:crypto';
import type { JobsOptions } from 'bullmq';

/** Every BullMQ queue in the system. Payload types below are keyed by these names. */
export enum QueueName {
  PackageBuild = 'package-build',
  Webhooks = 'webhooks',
  /** Housekeeping of each service: job schedulers, one occurrence runs on one replica. */
  Maintenance = 'maintenance',
  NotifierMaintenance = 'notifier-maintenance',
  GatewayMaintenance = 'gateway-maintenance',
  SyncMaintenance = 'sync-maintenance',
  /** Device push: one job per page of an event's recipients (docs/notifications.md). */
  PushFanout = 'push-fanout',
  /** Device push sends, one queue per provider so each has its own rate limiter. */
  PushFcm = 'push-fcm',
  PushApns = 'push-apns',
  PushWeb = 'push-webpush',
}

/** W3C trace context carried inside job data so a trace crosses the queue. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

export interface PackageBuildJob {
  /** Idempotency/content key (also used as the BullMQ job id). */
  packageKey: string;
  /** package_requests row the worker reloads; payloads carry ids only. */
  requestId: string;
  trace?: TraceCarrier;
}

export interface WebhookDeliveryJob {
  /** webhook_deliveries row: one per (event, subscription). */
  deliveryId: string;
  /** The attempt this job makes (1-based); a job whose attempt is already recorded is a no-op. */
  attempt: number;
  trace?: TraceCarrier;
}

/**
 * Job id of one delivery attempt. Deterministic, so whoever enqueues an attempt again (the
 * dispatcher after a crash, the notifier's recovery pass) adds nothing when it exists.
 */
export function webhookJobId(deliveryId: string, attempt: number): string {
  return `wh-${deliveryId}-${attempt}`;
}

export interface WebhookAttempt {
  deliveryId: string;
  attempt: number;
  /** Not before this many ms from now (a scheduled retry). */
  delayMs?: number;
  trace?: TraceCarrier | null;
}

/** The BullMQ job (name, data, options) of one delivery attempt, for `add`/`addBulk`. */
export function webhookAttemptJob(a: WebhookAttempt) {
  return {
    name: 'deliver',
    data: {
      deliveryId: a.deliveryId,
      attempt: a.attempt,
      ...(a.trace?.traceparent && { trace: a.trace }),
    } satisfies WebhookDeliveryJob,
    opts: {
      jobId: webhookJobId(a.deliveryId, a.attempt),
      ...(a.delayMs !== undefined && a.delayMs > 0 && { delay: a.delayMs }),
    },
  };
}

/** Fan-out of one event to the page of recipient devices after `after` (token id, keyset). */
export interface PushFanoutJob {
  eventId: string;
  /** Last push_tokens.id of the previous page; null for the first page. */
  after: string | null;
  trace?: TraceCarrier;
}

/** One send attempt of one notification (one row per (event, device)). */
export interface PushSendItem {
  notificationId: string;
  /** 1-based; an attempt already recorded is a no-op. */
  attempt: number;
}

/**
 * Send attempts of one provider's notifications: a fan-out page's first attempts in batches of
 * PUSH_SEND_BATCH, or one notification's retry or quiet-hours send. A job claims each
 * notification before sending it (notifications.send_job), so one in two jobs is sent once.
 */
export interface PushSendJob {
  sends: PushSendItem[];
  trace?: TraceCarrier;
}

/** Deterministic: the dispatcher or a retried page adding the same page again adds nothing. */
export function pushFanoutJobId(eventId: string, after: string | null): string {
  return `pf-${eventId}-${after ?? 'first'}`;
}

/**
 * Deterministic, so adding the same sends again adds nothing: `ps-<notification>-<attempt>` for
 * one, a digest of the set for a batch.
 */
export function pushSendJobId(sends: readonly PushSendItem[]): string {
  if (sends.length === 1) return `ps-${sends[0].notificationId}-${sends[0].attempt}`;
  const digest = createHash('sha256');
  for (const s of sends) digest.update(`${s.notificationId}:${s.attempt};`);
  return `psb-${digest.digest('base64url').slice(0, 32)}`;
}

/**
 * Housekeeping jobs: one job scheduler per task (its id is the task), on one maintenance queue
 * per owning service (libs/common/src/queues/maintenance.ts). The payload names the task only.
 */
export interface MaintenanceJob {
  /** package-builder: abort abandoned multipart uploads; expire superseded packages. */
  task: 'sweep-multipart-uploads' | 'prune-packages';
}

export interface NotifierMaintenanceJob {
  /**
   * Delete dispatched events past retention; re-add the jobs of overdue webhook deliveries and
   * of overdue push notifications.
   */
  task: 'prune-events' | 'recover-webhook-jobs' | 'recover-push-sends';
}

export interface GatewayMaintenanceJob {
  /** Remove media objects no row points at and abandoned media multipart uploads. */
  task: 'sweep-media';
}

export interface SyncMaintenanceJob {
  task:
    | 'compact-change-log'
    | 'expire-sessions'
    | 'fail-interrupted-mutations'
    | 'prune-sync-queue'
    /** Sync health figures for every replica's gauges. */
    | 'refresh-sync-health';
}

export interface QueuePayloads {
  [QueueName.PackageBuild]: PackageBuildJob;
  [QueueName.Webhooks]: WebhookDeliveryJob;
  [QueueName.Maintenance]: MaintenanceJob;
  [QueueName.NotifierMaintenance]: NotifierMaintenanceJob;
  [QueueName.GatewayMaintenance]: GatewayMaintenanceJob;
  [QueueName.SyncMaintenance]: SyncMaintenanceJob;
  [QueueName.PushFanout]: PushFanoutJob;
  [QueueName.PushFcm]: PushSendJob;
  [QueueName.PushApns]: PushSendJob;
  [QueueName.PushWeb]: PushSendJob;
}

/** Redis key prefix of every queue (validated at boot as QUEUE_PREFIX). */
export function queuePrefix(): string {
  return process.env.QUEUE_PREFIX ?? 'bible';
}

/**
 * Redis sorted set of multipart uploads in flight, one member per attempt (object key and upload
 * id, see @bible/storage's uploads-in-flight.ts; score: start time). The sweeper aborts the
 * uploads of attempts left behind by crashed builders (MinIO lists multipart uploads per exact
 * key only).
 */
export function uploadsInFlightKey(): string {
  return `${queuePrefix()}:uploads-in-flight`;
}

/** Queue defaults in one place: retries with exponential backoff and bounded retention. */
export const queueDefaults: Record<QueueName, JobsOptions> = {
  [QueueName.PackageBuild]: {
    // Retries outlast a 60 s object-store or database outage: with full-to-half jitter the five
    // waits add up to 62-124 s, and replicas retrying after a shared outage do not stampede.
    attempts: 6,
    backoff: { type: 'exponential', delay: 4_000, jitter: 0.5 },
    removeOnComplete: { count: 1_000, age: 7 * 24 * 3600 },
    removeOnFail: { count: 5_000, age: 30 * 24 * 3600 },
  },
  [QueueName.Webhooks]: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 5_000 },
    removeOnComplete: { count: 10_000 },
    removeOnFail: { count: 10_000 },
  },
  [QueueName.Maintenance]: maintenanceDefaults(),
  [QueueName.NotifierMaintenance]: maintenanceDefaults(),
  [QueueName.GatewayMaintenance]: maintenanceDefaults(),
  [QueueName.SyncMaintenance]: maintenanceDefaults(),
  // A page fails only when Postgres or Redis does: retried long enough to outlast an outage.
  [QueueName.PushFanout]: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
    removeOnComplete: { count: 10_000, age: 24 * 3600 },
    removeOnFail: { count: 10_000 },
  },
  // Provider answers schedule their own next attempt (a new job); these retries cover crashes.
  [QueueName.PushFcm]: pushSendDefaults(),
  [QueueName.PushApns]: pushSendDefaults(),
  [QueueName.PushWeb]: pushSendDefaults(),
};

/**
 * A failed occurrence is retried; the next occurrence comes anyway, so few attempts suffice.
 * Completed occurrences go at once (a scheduler every few seconds would otherwise keep Redis
 * growing up to the retention count); failed ones stay, with their reason, for the console.
 */
function maintenanceDefaults(): JobsOptions {
  return {
    attempts: 3,
    backoff: { type: 'exponential', delay: 10_000 },
    removeOnComplete: true,
    removeOnFail: { count: 100 },
  };
}

function pushSendDefaults(): JobsOptions {
  return {
    attempts: 5,
    backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
    removeOnComplete: { count: 10_000, age: 24 * 3600 },
    removeOnFail: { count: 10_000 },
  };
}

/**
 * How often a worker renews the locks of its running jobs: a quarter of the lock (at most 5 s), so
 * a lock survives a Redis outage of up to about `lockDuration - 1.5 × renewal - 2 s reconnect`
 * (40 s locks: 30 s) instead of half the lock with BullMQ's default renewal.
 */
export function lockRenewTime(lockDurationMs: number): number {
  return Math.max(250, Math.min(5_000, Math.floor(lockDurationMs / 4)));
}

/** Worker-side defaults shared by every consumer (stalled-job detection hands jobs to another worker). */
export const workerDefaults = {
  stalledInterval: 15_000,
  maxStalledCount: 2,
  lockDuration: 30_000,
} as const;
