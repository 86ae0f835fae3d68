import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { Relation } from 'typeorm';
import { WEBHOOK_DELIVERY_STATUSES, sqlIn, type WebhookDeliveryStatus } from '../constants';
import { TimestampedRecord } from './content-record';
import { WebhookSubscription } from './webhook-subscription.entity';

@Entity('webhook_deliveries')
@Check('chk_webhook_deliveries_status', sqlIn('status', WEBHOOK_DELIVERY_STATUSES))
@Check('chk_webhook_deliveries_attempts', `"attempts" >= 0`)
@Index('idx_webhook_deliveries_subscription_id_created_at', ['subscriptionId', 'createdAt'])
@Index('idx_webhook_deliveries_status_next_attempt_at', ['status', 'nextAttemptAt'])
export class WebhookDelivery extends TimestampedRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_webhook_deliveries' })
  id!: string;

  @Column('uuid', { name: 'subscription_id' })
  subscriptionId!: string;

  @Column('text', { name: 'event_type' })
  eventType!: string;

  /** Stable id of the event, sent as a header so receivers can deduplicate retries. */
  @Column('text', { name: 'event_id', nullable: true })
  eventId!: string | null;

  @Column('jsonb')
  payload!: Record<string, unknown>;

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
}
