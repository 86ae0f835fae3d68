import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { PUSH_PLATFORMS, sqlIn, type PushPlatform } from '../constants';
import { TimestampedRecord } from './content-record';

/**
 * A device registration. A token belongs to one user: registering it again refreshes
 * `last_seen_at`, and registering it from another account moves it there. Web tokens are the
 * PushSubscription endpoint, with its keys in `web_p256dh`/`web_auth`.
 */
@Entity('push_tokens')
@Unique('uq_push_tokens_token', ['token'])
@Check('chk_push_tokens_platform', sqlIn('platform', PUSH_PLATFORMS))
@Check(
  'chk_push_tokens_web_keys',
  `("platform" = 'web') = ("web_p256dh" IS NOT NULL AND "web_auth" IS NOT NULL)`,
)
@Index('idx_push_tokens_user_id_device_id', ['userId', 'deviceId'])
export class PushToken extends TimestampedRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_push_tokens' })
  id!: string;

  @Column('text', { name: 'user_id' })
  userId!: string;

  @Column('text')
  token!: string;

  @Column('text')
  platform!: PushPlatform;

  @Column('text', { name: 'device_id', nullable: true })
  deviceId!: string | null;

  @Column('text', { name: 'app_version', nullable: true })
  appVersion!: string | null;

  /** BCP 47 tag choosing the notification templates (fallback: language, then en). */
  @Column('text', { nullable: true })
  locale!: string | null;

  /** IANA zone of the device (quiet hours fall back to it when preferences name none). */
  @Column('text', { nullable: true })
  timezone!: string | null;

  @Column('text', { name: 'web_p256dh', nullable: true })
  webP256dh!: string | null;

  @Column('text', { name: 'web_auth', nullable: true })
  webAuth!: string | null;

  /** When the current owner registered it (an APNs 410 older than this does not prune it). */
  @Column('timestamptz', { name: 'registered_at', default: () => 'now()' })
  registeredAt!: Date;

  @Column('timestamptz', { name: 'last_seen_at', default: () => 'now()' })
  lastSeenAt!: Date;

  /** Set when the push provider reports the token dead; such tokens are skipped. */
  @Column('timestamptz', { name: 'invalidated_at', nullable: true })
  invalidatedAt!: Date | null;
}
