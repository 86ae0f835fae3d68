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

  @Column('text', { nullable: true })
  description!: string | null;

  @Column('boolean', { default: true })
  active!: boolean;

  @Column('text', { name: 'created_by', nullable: true })
  createdBy!: string | null;
}
