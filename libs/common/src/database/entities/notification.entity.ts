import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { NOTIFICATION_STATUSES, sqlIn, type NotificationStatus } from '../constants';
import { TimestampedRecord } from './content-record';
import { EventRecord } from './event.entity';
import { PushToken } from './push-token.entity';

@Entity('notifications')
@Check('chk_notifications_status', sqlIn('status', NOTIFICATION_STATUSES))
@Check('chk_notifications_attempts', `"attempts" >= 0`)
@Check('chk_notifications_provider', `"provider" IN ('fcm', 'apns', 'webpush')`)
@Unique('uq_notifications_event_id_push_token_id', ['eventId', 'pushTokenId'])
@Unique('uq_notifications_push_token_id_collapse_key_coalesce_window', [
  'pushTokenId',
  'collapseKey',
  'coalesceWindow',
])
@Index('idx_notifications_user_id_created_at_id', ['userId', 'createdAt', 'id'])
@Index('idx_notifications_push_token_id', ['pushTokenId'])
@Index('idx_notifications_status_created_at', ['status', 'createdAt'])
export class Notification extends TimestampedRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_notifications' })
  id!: string;

  @Column('text', { name: 'user_id' })
  userId!: string;

  @Column('text')
  type!: string;

  @Column('text')
  title!: string;

  @Column('text')
  body!: string;

  @Column('jsonb', { default: {} })
  data!: Record<string, unknown>;

  @Column('text', { default: 'pending' })
  status!: NotificationStatus;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('timestamptz', { name: 'sent_at', nullable: true })
  sentAt!: Date | null;

  /** With push_token_id, the notification's identity: one per (event, device). */
  @Column('uuid', { name: 'event_id', nullable: true })
  eventId!: string | null;

  @ManyToOne(() => EventRecord, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'event_id', foreignKeyConstraintName: 'fk_notifications_event_id' })
  event?: EventRecord;

  /** NULL once the token is pruned or deleted (the notification stays in the user's history). */
  @Column('uuid', { name: 'push_token_id', nullable: true })
  pushTokenId!: string | null;

  @ManyToOne(() => PushToken, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'push_token_id', foreignKeyConstraintName: 'fk_notifications_push_token_id' })
  pushToken?: PushToken;

  @Column('text', { nullable: true })
  provider!: 'fcm' | 'apns' | 'webpush' | null;

  /** FCM message name, APNs apns-id, Web Push Location. */
  @Column('text', { name: 'provider_message_id', nullable: true })
  providerMessageId!: string | null;

  /** A newer notification with the same key replaces an older one on the device. */
  @Column('text', { name: 'collapse_key', nullable: true })
  collapseKey!: string | null;

  /** Start of the coalescing window (content.changed: one per device, version and window). */
  @Column('timestamptz', { name: 'coalesce_window', nullable: true })
  coalesceWindow!: Date | null;

  @Column('text', { nullable: true })
  locale!: string | null;

  /** Not sent before this (the end of the quiet hours it fell in). */
  @Column('timestamptz', { name: 'not_before', nullable: true })
  notBefore!: Date | null;

  /** The send job that may send the current attempt (claimed before sending; cleared on settle). */
  @Column('text', { name: 'send_job', nullable: true })
  sendJob!: string | null;
}
