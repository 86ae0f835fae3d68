import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { NOTIFICATION_STATUSES, sqlIn, type NotificationStatus } from '../constants';
import { TimestampedRecord } from './content-record';

@Entity('notifications')
@Check('chk_notifications_status', sqlIn('status', NOTIFICATION_STATUSES))
@Check('chk_notifications_attempts', `"attempts" >= 0`)
@Index('idx_notifications_user_id_created_at', ['userId', 'createdAt'])
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
}
