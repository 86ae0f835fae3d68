import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampedRecord } from './content-record';

/** A user's push preferences: event types switched off and quiet hours (delay, never drop). */
@Entity('notification_preferences')
@Check(
  'chk_notification_preferences_quiet',
  `("quiet_start" IS NULL) = ("quiet_end" IS NULL) AND ("quiet_start" IS NULL) = ("quiet_timezone" IS NULL)`,
)
export class NotificationPreference extends TimestampedRecord {
  @PrimaryColumn('text', {
    name: 'user_id',
    primaryKeyConstraintName: 'pk_notification_preferences',
  })
  userId!: string;

  @Column('text', { name: 'disabled_types', array: true, default: () => "'{}'" })
  disabledTypes!: string[];

  @Column('time', { name: 'quiet_start', nullable: true })
  quietStart!: string | null;

  @Column('time', { name: 'quiet_end', nullable: true })
  quietEnd!: string | null;

  @Column('text', { name: 'quiet_timezone', nullable: true })
  quietTimezone!: string | null;
}
