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
import type { Relation } from 'typeorm';
import { WEBHOOK_DELIVERY_STATUSES, sqlIn, type WebhookDeliveryStatus } from '../constants';
import { TimestampedRecord } from './content-record';
import { EventRecord } from './event.entity';
import { WebhookSubscription } from './webhook-subscription.entity';

@Entity('webhook_deliveries')
@Check('chk_webhook_deliveries_status', sqlIn('status', WEBHOOK_DELIVERY_STATUSES))
@Check('chk_webhook_deliveries_attempts', `"attempts" >= 0`)
@Check('chk_webhook_deliveries_body', `"event_id" IS NOT NULL OR "payload" IS NOT NULL`)
@Unique('uq_webhook_deliveries_event_id_subscription_id', ['eventId', 'subscriptionId'])
@Index('idx_webhook_deliveries_subscription_id_created_at', ['subscriptionId', 'createdAt'])
@Index('idx_webhook_deliveries_status_next_attempt_at', ['status', 'nextAttemptAt'])
export class WebhookDelivery extends TimestampedRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_webhook_deliveries' })
  id!: string;

  @Column('uuid', { name: 'subscription_id' })
  subscriptionId!: string;

  @Column('text', { name: 'event_type' })
  eventType!: string;

  /**
   * The event delivered (its id is the `webhook-id` header, so receivers can deduplicate
   * retries). NULL only for `webhook.test` deliveries, whose id is the delivery id.
   */
  @Column('uuid', { name: 'event_id', nullable: true })
  eventId!: string | null;

  /** Body of deliveries without an event (`webhook.test`); event-backed ones read `events`. */
  @Column('jsonb', { nullable: true })
  payload!: Record<string, unknown> | null;

  @Column('text', { default: 'pending' })
  status!: WebhookDeliveryStatus;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('integer', { name: 'response_status', nullable: true })
  responseStatus!: number | null;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('timestamptz', { name: 'next_attempt_at', nullable: true })
  nextAttemptAt!: Date | null;

  @Column('timestamptz', { name: 'delivered_at', nullable: true })
  deliveredAt!: Date | null;

  @ManyToOne(() => WebhookSubscription, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'subscription_id',
    foreignKeyConstraintName: 'fk_webhook_deliveries_subscription_id',
  })
  subscription?: Relation<WebhookSubscription>;

  @ManyToOne(() => EventRecord, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id', foreignKeyConstraintName: 'fk_webhook_deliveries_event_id' })
  event?: Relation<EventRecord>;
}
