import { AudioVersion } from './audio-version.entity';
import { BibleVersion } from './bible-version.entity';
import { Book } from './book.entity';
import { ChangeLog } from './change-log.entity';
import { Chapter } from './chapter.entity';
import { EventRecord } from './event.entity';
import { LanguageEntity } from './language-entity.entity';
import { MediaFileTag } from './media-file-tag.entity';
import { MediaFileTarget } from './media-file-target.entity';
import { MediaFileVerse } from './media-file-verse.entity';
import { MediaFile } from './media-file.entity';
import { NotificationPreference } from './notification-preference.entity';
import { Notification } from './notification.entity';
import { PackageGeneration } from './package-generation.entity';
import { PackageRequest } from './package-request.entity';
import { PushToken } from './push-token.entity';
import { Region } from './region.entity';
import { SigningKeyRecord } from './signing-key.entity';
import { SyncConflict } from './sync-conflict.entity';
import { ChangeLogHorizon, SyncRelayState } from './sync-feed.entity';
import { SyncQueueItem } from './sync-queue.entity';
import { SyncSession } from './sync-session.entity';
import { Tag } from './tag.entity';
import { TextVersion } from './text-version.entity';
import { User } from './user.entity';
import { VerseText } from './verse-text.entity';
import { Verse } from './verse.entity';
import { WebhookDeliveryAttempt } from './webhook-delivery-attempt.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookSubscription } from './webhook-subscription.entity';

export { ContentRecord, TimestampedRecord } from './content-record';
export {
  AudioVersion,
  BibleVersion,
  Book,
  ChangeLog,
  Chapter,
  EventRecord,
  LanguageEntity,
  MediaFile,
  MediaFileTag,
  MediaFileTarget,
  MediaFileVerse,
  Notification,
  NotificationPreference,
  PackageGeneration,
  PackageRequest,
  PushToken,
  Region,
  SigningKeyRecord,
  SyncConflict,
  SyncQueueItem,
  SyncSession,
  SyncRelayState,
  ChangeLogHorizon,
  Tag,
  TextVersion,
  User,
  Verse,
  VerseText,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookSubscription,
};

/** Every entity, for DataSource options. */
export const entities = [
  Region,
  SigningKeyRecord,
  LanguageEntity,
  BibleVersion,
  Book,
  Chapter,
  Verse,
  AudioVersion,
  TextVersion,
  MediaFile,
  MediaFileVerse,
  MediaFileTarget,
  Tag,
  MediaFileTag,
  VerseText,
  User,
  ChangeLog,
  PackageGeneration,
  PackageRequest,
  SyncSession,
  SyncQueueItem,
  SyncConflict,
  PushToken,
  Notification,
  NotificationPreference,
  WebhookSubscription,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  SyncRelayState,
  ChangeLogHorizon,
  EventRecord,
];
