import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { WebhookDelivery } from './webhook-delivery.entity';

/** One HTTP attempt of a webhook delivery, as operators see it in the deliveries API. */
@Entity('webhook_delivery_attempts')
@Check('chk_webhook_delivery_attempts_attempt', `"attempt" >= 1`)
@Check('chk_webhook_delivery_attempts_duration', `"duration_ms" >= 0`)
export class WebhookDeliveryAttempt {
  @PrimaryColumn('uuid', {
    name: 'delivery_id',
    primaryKeyConstraintName: 'pk_webhook_delivery_attempts',
  })
  deliveryId!: string;

  @PrimaryColumn('integer', { primaryKeyConstraintName: 'pk_webhook_delivery_attempts' })
  attempt!: number;

  @Column('timestamptz', { name: 'attempted_at', default: () => 'now()' })
  attemptedAt!: Date;

  /** HTTP status, NULL when no response came (timeout, refused address, connection error). */
  @Column('integer', { name: 'status_code', nullable: true })
  statusCode!: number | null;

  @Column('integer', { name: 'duration_ms' })
  durationMs!: number;

  @Column('text', { nullable: true })
  error!: string | null;

  /** When the next attempt is due (NULL after a success or the last attempt). */
  @Column('timestamptz', { name: 'next_attempt_at', nullable: true })
  nextAttemptAt!: Date | null;

  @ManyToOne(() => WebhookDelivery, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'delivery_id',
    foreignKeyConstraintName: 'fk_webhook_delivery_attempts_delivery_id',
  })
  delivery?: Relation<WebhookDelivery>;
}
