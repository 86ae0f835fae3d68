import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Device push (issue 12) on top of the push_tokens and notifications tables OperationsSchema
 * created.
 *  - push_tokens: a token belongs to one user (registering it again from another account moves
 *    it), so the token alone is unique; locale/timezone pick the template and quiet hours;
 *    web_p256dh/web_auth are the PushSubscription keys of a web token (whose token is the
 *    endpoint); registered_at is compared with APNs' 410 timestamp before pruning.
 *  - notification_preferences: per user, event types switched off and quiet hours.
 *  - notifications: one row per (event, device), enforced by a unique constraint so a replayed
 *    event or a restarted fan-out never creates a second send; coalesce_window + collapse_key
 *    give content.changed at most one notification per device, version and window (NULL
 *    windows never conflict). not_before is the end of the quiet hours it was delayed by.
 *  - events.push_dispatched_at: the push dispatcher's own claim marker (the webhook dispatcher
 *    keeps dispatched_at), so the two pipelines never wait on each other.
 */
const UP = `
DELETE FROM push_tokens p USING push_tokens newer
 WHERE p.token = newer.token AND (p.last_seen_at, p.id) < (newer.last_seen_at, newer.id);
ALTER TABLE push_tokens
  DROP CONSTRAINT uq_push_tokens_user_id_token,
  ADD COLUMN locale text,
  ADD COLUMN timezone text,
  ADD COLUMN web_p256dh text,
  ADD COLUMN web_auth text,
  ADD COLUMN registered_at timestamptz NOT NULL DEFAULT now(),
  ADD CONSTRAINT uq_push_tokens_token UNIQUE (token),
  ADD CONSTRAINT chk_push_tokens_web_keys
    CHECK ((platform = 'web') = (web_p256dh IS NOT NULL AND web_auth IS NOT NULL));
DROP INDEX idx_push_tokens_token;
CREATE INDEX idx_push_tokens_user_id_device_id ON push_tokens (user_id, device_id);

CREATE TABLE notification_preferences (
  user_id text NOT NULL,
  disabled_types text[] NOT NULL DEFAULT '{}',
  quiet_start time,
  quiet_end time,
  quiet_timezone text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_notification_preferences PRIMARY KEY (user_id),
  CONSTRAINT chk_notification_preferences_quiet CHECK (
    (quiet_start IS NULL) = (quiet_end IS NULL) AND (quiet_start IS NULL) = (quiet_timezone IS NULL))
);
CREATE TRIGGER notification_preferences_set_updated_at BEFORE UPDATE ON notification_preferences
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE notifications
  ADD COLUMN event_id uuid,
  ADD COLUMN push_token_id uuid,
  ADD COLUMN provider text,
  ADD COLUMN provider_message_id text,
  ADD COLUMN collapse_key text,
  ADD COLUMN coalesce_window timestamptz,
  ADD COLUMN locale text,
  ADD COLUMN not_before timestamptz,
  ADD CONSTRAINT fk_notifications_event_id FOREIGN KEY (event_id)
    REFERENCES events (id) ON DELETE SET NULL,
  ADD CONSTRAINT fk_notifications_push_token_id FOREIGN KEY (push_token_id)
    REFERENCES push_tokens (id) ON DELETE SET NULL,
  ADD CONSTRAINT uq_notifications_event_id_push_token_id UNIQUE (event_id, push_token_id),
  ADD CONSTRAINT uq_notifications_push_token_id_collapse_key_coalesce_window
    UNIQUE (push_token_id, collapse_key, coalesce_window),
  ADD CONSTRAINT chk_notifications_provider CHECK (provider IN ('fcm', 'apns', 'webpush'));
CREATE INDEX idx_notifications_user_id_created_at_id ON notifications (user_id, created_at, id);
DROP INDEX idx_notifications_user_id_created_at;
CREATE INDEX idx_notifications_push_token_id ON notifications (push_token_id);

ALTER TABLE events ADD COLUMN push_dispatched_at timestamptz;
UPDATE events SET push_dispatched_at = now();
CREATE INDEX idx_events_push_undispatched_seq ON events (seq) WHERE push_dispatched_at IS NULL;
`;

const DOWN = `
DROP INDEX idx_events_push_undispatched_seq;
ALTER TABLE events DROP COLUMN push_dispatched_at;
DROP INDEX idx_notifications_push_token_id;
CREATE INDEX idx_notifications_user_id_created_at ON notifications (user_id, created_at);
DROP INDEX idx_notifications_user_id_created_at_id;
ALTER TABLE notifications
  DROP CONSTRAINT chk_notifications_provider,
  DROP CONSTRAINT uq_notifications_push_token_id_collapse_key_coalesce_window,
  DROP CONSTRAINT uq_notifications_event_id_push_token_id,
  DROP CONSTRAINT fk_notifications_push_token_id,
  DROP CONSTRAINT fk_notifications_event_id,
  DROP COLUMN not_before,
  DROP COLUMN locale,
  DROP COLUMN coalesce_window,
  DROP COLUMN collapse_key,
  DROP COLUMN provider_message_id,
  DROP COLUMN provider,
  DROP COLUMN push_token_id,
  DROP COLUMN event_id;
DROP TABLE notification_preferences;
DROP INDEX idx_push_tokens_user_id_device_id;
CREATE INDEX idx_push_tokens_token ON push_tokens (token);
ALTER TABLE push_tokens
  DROP CONSTRAINT chk_push_tokens_web_keys,
  DROP CONSTRAINT uq_push_tokens_token,
  DROP COLUMN registered_at,
  DROP COLUMN web_auth,
  DROP COLUMN web_p256dh,
  DROP COLUMN timezone,
  DROP COLUMN locale,
  ADD CONSTRAINT uq_push_tokens_user_id_token UNIQUE (user_id, token);
`;

export class PushNotifications1795301300000 implements MigrationInterface {
  name = 'PushNotifications1795301300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}
