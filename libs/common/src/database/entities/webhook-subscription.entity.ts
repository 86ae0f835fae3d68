import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../constants';
import { TimestampedRecord } from './content-record';

const eventTypes = WEBHOOK_EVENT_TYPES.map((t) => `'${t}'`).join(', ');

/**
 * An internal service subscribed to events. The signing secret is shown once at creation; the
 * notifier needs it again to sign deliveries (HMAC), so it is stored encrypted by the application
 * (`secret_encrypted`), never in plain text.
 */
@Entity('webhook_subscriptions')
@Check('chk_webhook_subscriptions_url', `"url" ~ '^https?://'`)
@Check(
  'chk_webhook_subscriptions_event_types',
  `cardinality("event_types") > 0 AND "event_types" <@ ARRAY[${eventTypes}]::text[]`,
)
@Check(
  'chk_webhook_subscriptions_previous_secret',
  `("previous_secret_encrypted" IS NULL) = ("previous_secret_expires_at" IS NULL)`,
)
@Index('idx_webhook_subscriptions_active', ['active'])
export class WebhookSubscription extends TimestampedRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_webhook_subscriptions' })
  id!: string;

  @Column('text')
  url!: string;

  @Column('text', { name: 'event_types', array: true })
  eventTypes!: WebhookEventType[];

  @Column('text', { name: 'secret_encrypted' })
  secretEncrypted!: string;

  /** The secret before the last rotation: deliveries are signed with both until it expires. */
  @Column('text', { name: 'previous_secret_encrypted', nullable: true })
  previousSecretEncrypted!: string | null;

  @Column('timestamptz', { name: 'previous_secret_expires_at', nullable: true })
  previousSecretExpiresAt!: Date | null;

  @Column('text', { nullable: true })
  description!: string | null;

  @Column('boolean', { default: true })
  active!: boolean;

  @Column('text', { name: 'created_by', nullable: true })
  createdBy!: string | null;

  /** Start of the current run of failed attempts (NULL after a success). */
  @Column('timestamptz', { name: 'failing_since', nullable: true })
  failingSince!: Date | null;

  /** Set (with `active` false) when the endpoint failed for WEBHOOK_DISABLE_AFTER. */
  @Column('timestamptz', { name: 'disabled_at', nullable: true })
  disabledAt!: Date | null;

  @Column('text', { name: 'disabled_reason', nullable: true })
  disabledReason!: string | null;
}
