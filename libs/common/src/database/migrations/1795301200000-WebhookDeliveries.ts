import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Webhook delivery (issue 11) on top of the tables OperationsSchema created.
 *  - webhook_deliveries: one row per (event, subscription), enforced by a unique constraint so a
 *    dispatcher that runs twice (crash, two replicas) never creates a second delivery. Event-backed
 *    deliveries read their body from `events` (payload NULL) and go with it when retention prunes
 *    the event; `webhook.test` deliveries have no event and carry their own payload.
 *  - webhook_delivery_attempts: every HTTP attempt (status, duration, error, next attempt time).
 *  - webhook_subscriptions: the previous secret stays valid for 24 h after a rotation (deliveries
 *    carry both signatures), failing_since drives disabling after WEBHOOK_DISABLE_AFTER.
 */
const UP = `
ALTER TABLE webhook_subscriptions
  ADD COLUMN previous_secret_encrypted text,
  ADD COLUMN previous_secret_expires_at timestamptz,
  ADD COLUMN failing_since timestamptz,
  ADD COLUMN disabled_at timestamptz,
  ADD COLUMN disabled_reason text,
  ADD CONSTRAINT chk_webhook_subscriptions_previous_secret
    CHECK ((previous_secret_encrypted IS NULL) = (previous_secret_expires_at IS NULL));

ALTER TABLE webhook_deliveries
  ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
  ALTER COLUMN payload DROP NOT NULL,
  ADD CONSTRAINT fk_webhook_deliveries_event_id FOREIGN KEY (event_id)
    REFERENCES events (id) ON DELETE CASCADE,
  ADD CONSTRAINT uq_webhook_deliveries_event_id_subscription_id UNIQUE (event_id, subscription_id),
  ADD CONSTRAINT chk_webhook_deliveries_body CHECK (event_id IS NOT NULL OR payload IS NOT NULL);

CREATE TABLE webhook_delivery_attempts (
  delivery_id uuid NOT NULL,
  attempt integer NOT NULL,
  attempted_at timestamptz NOT NULL DEFAULT now(),
  status_code integer,
  duration_ms integer NOT NULL,
  error text,
  next_attempt_at timestamptz,
  CONSTRAINT pk_webhook_delivery_attempts PRIMARY KEY (delivery_id, attempt),
  CONSTRAINT fk_webhook_delivery_attempts_delivery_id FOREIGN KEY (delivery_id)
    REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  CONSTRAINT chk_webhook_delivery_attempts_attempt CHECK (attempt >= 1),
  CONSTRAINT chk_webhook_delivery_attempts_duration CHECK (duration_ms >= 0)
);
`;

const DOWN = `
DROP TABLE webhook_delivery_attempts;
ALTER TABLE webhook_deliveries
  DROP CONSTRAINT chk_webhook_deliveries_body,
  DROP CONSTRAINT uq_webhook_deliveries_event_id_subscription_id,
  DROP CONSTRAINT fk_webhook_deliveries_event_id;
DELETE FROM webhook_deliveries WHERE payload IS NULL;
ALTER TABLE webhook_deliveries
  ALTER COLUMN payload SET NOT NULL,
  ALTER COLUMN event_id TYPE text USING event_id::text;
ALTER TABLE webhook_subscriptions
  DROP CONSTRAINT chk_webhook_subscriptions_previous_secret,
  DROP COLUMN disabled_reason,
  DROP COLUMN disabled_at,
  DROP COLUMN failing_since,
  DROP COLUMN previous_secret_expires_at,
  DROP COLUMN previous_secret_encrypted;
`;

export class WebhookDeliveries1795301200000 implements MigrationInterface {
  name = 'WebhookDeliveries1795301200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}
