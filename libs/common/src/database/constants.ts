/**
 * Value sets enforced by CHECK constraints. Entities build their checks from these lists; the
 * migrations spell the same values out literally so an applied migration never changes meaning.
 */
export const PUBLISH_STATUSES = ['draft', 'published', 'archived'] as const;
export type PublishStatus = (typeof PUBLISH_STATUSES)[number];

export const USER_ROLES = ['user', 'editor', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const TESTAMENTS = ['OT', 'NT'] as const;
export type Testament = (typeof TESTAMENTS)[number];

export const MEDIA_TYPES = ['audio', 'video'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export const AUDIO_FORMATS = ['mp3', 'm4a'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

export const UPLOAD_STATUSES = ['pending', 'uploading', 'completed', 'failed'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

export const CHECK_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** Tables whose changes are captured in change_log (and therefore synced to clients). */
export const CHANGE_LOG_TABLES = [
  'audio_versions',
  'text_versions',
  'media_files',
  'media_files_verses',
  'verse_texts',
] as const;
export type ChangeLogTable = (typeof CHANGE_LOG_TABLES)[number];

export const CHANGE_OPERATIONS = ['INSERT', 'UPDATE', 'DELETE'] as const;
export type ChangeOperation = (typeof CHANGE_OPERATIONS)[number];

export const PACKAGE_TYPES = ['audio', 'text', 'combined'] as const;
export type PackageType = (typeof PACKAGE_TYPES)[number];

export const PACKAGE_REQUEST_STATUSES = ['queued', 'active', 'completed', 'failed'] as const;
export type PackageRequestStatus = (typeof PACKAGE_REQUEST_STATUSES)[number];

export const PACKAGE_GENERATION_STATUSES = [
  'building',
  'ready',
  'failed',
  'stale',
  'expired',
] as const;
export type PackageGenerationStatus = (typeof PACKAGE_GENERATION_STATUSES)[number];

export const SYNC_SESSION_STATUSES = ['active', 'completed', 'failed', 'expired'] as const;
export type SyncSessionStatus = (typeof SYNC_SESSION_STATUSES)[number];

export const SYNC_QUEUE_STATUSES = [
  'pending',
  'applied',
  'rejected',
  'conflict',
  'ignored',
  'failed',
] as const;
export type SyncQueueStatus = (typeof SYNC_QUEUE_STATUSES)[number];

export const CONFLICT_RESOLUTIONS = ['client_wins', 'server_wins', 'merged'] as const;
export type ConflictResolution = (typeof CONFLICT_RESOLUTIONS)[number];

export const PUSH_PLATFORMS = ['ios', 'android', 'web'] as const;
export type PushPlatform = (typeof PUSH_PLATFORMS)[number];

export const NOTIFICATION_STATUSES = ['pending', 'sent', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export const WEBHOOK_EVENT_TYPES = [
  'package.ready',
  'package.failed',
  'content.changed',
  'sync.conflict',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/**
 * Transaction-local settings read by the triggers. Set them with `SELECT set_config(name, value,
 * true)` (see `setChangeContext`) inside the writing transaction.
 */
export const SETTING_USER_ID = 'bible.user_id';
export const SETTING_CHANGE_SOURCE = 'bible.change_source';

/** TypeORM's bookkeeping table for applied migrations. */
export const MIGRATIONS_TABLE = 'schema_migrations';

/** SQL for `"column" IN ('a', 'b')`, used by entity @Check expressions. */
export function sqlIn(column: string, values: readonly string[]): string {
  return `"${column}" IN (${values.map((v) => `'${v}'`).join(', ')})`;
}
