import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { PUSH_PLATFORMS, sqlIn, type PushPlatform } from '../constants';
import { TimestampedRecord } from './content-record';

/** A device registration; registering the same (user, token) again refreshes `last_seen_at`. */
@Entity('push_tokens')
@Unique('uq_push_tokens_user_id_token', ['userId', 'token'])
@Check('chk_push_tokens_platform', sqlIn('platform', PUSH_PLATFORMS))
@Index('idx_push_tokens_token', ['token'])
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

  @Column('timestamptz', { name: 'last_seen_at', default: () => 'now()' })
  lastSeenAt!: Date;

  /** Set when the push provider reports the token dead; such tokens are skipped. */
  @Column('timestamptz', { name: 'invalidated_at', nullable: true })
  invalidatedAt!: Date | null;
}
