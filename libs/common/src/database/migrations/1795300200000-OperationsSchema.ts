import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Operational tables: package builds, sync bookkeeping, push notifications and webhooks.
 * User ids are JWT subjects stored without a foreign key (see the users table comment in the
 * entities); every other foreign key has an index.
 */

const TIMESTAMPS = `
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()`;

const WITH_UPDATED_AT = [
  'package_generations',
  'package_requests',
  'sync_sessions',
  'sync_conflicts',
  'push_tokens',
  'notifications',
  'webhook_subscriptions',
  'webhook_deliveries',
];

const UP = `
CREATE TABLE package_generations (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  package_id text NOT NULL,
  package_key text NOT NULL,
  package_type text NOT NULL,
  language_entity_id text NOT NULL,
  audio_version_id text,
  text_version_id text,
  books text[],
  chunking jsonb,
  series_id text,
  part_number integer,
  total_parts integer,
  content_revision text NOT NULL,
  sync_cursor text,
  status text NOT NULL DEFAULT 'building',
  object_key text,
  size_bytes bigint,
  content_sha256 text,
  manifest jsonb,
  generation_ms integer,
  cache_hits integer NOT NULL DEFAULT 0,
  download_count bigint NOT NULL DEFAULT 0,
  bytes_served bigint NOT NULL DEFAULT 0,
  error text,
  created_by text,${TIMESTAMPS},
  ready_at timestamptz,
  stale_at timestamptz,
  expires_at timestamptz,
  CONSTRAINT pk_package_generations PRIMARY KEY (id),
  CONSTRAINT uq_package_generations_package_id UNIQUE (package_id),
  CONSTRAINT fk_package_generations_language_entity_id FOREIGN KEY (language_entity_id)
    REFERENCES language_entities (id),
  CONSTRAINT fk_package_generations_audio_version_id FOREIGN KEY (audio_version_id)
    REFERENCES audio_versions (id) ON DELETE SET NULL,
  CONSTRAINT fk_package_generations_text_version_id FOREIGN KEY (text_version_id)
    REFERENCES text_versions (id) ON DELETE SET NULL,
  CONSTRAINT chk_package_generations_status
    CHECK (status IN ('building', 'ready', 'failed', 'stale', 'expired')),
  CONSTRAINT chk_package_generations_package_type
    CHECK (package_type IN ('audio', 'text', 'combined')),
  CONSTRAINT chk_package_generations_package_id CHECK (package_id ~ '^[A-Za-z0-9._-]{1,128}$'),
  CONSTRAINT chk_package_generations_parts
    CHECK (total_parts >= 1 AND part_number >= 1 AND part_number <= total_parts),
  CONSTRAINT chk_package_generations_size_bytes CHECK (size_bytes >= 0),
  CONSTRAINT chk_package_generations_content_sha256 CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
  CONSTRAINT chk_package_generations_counters
    CHECK (cache_hits >= 0 AND download_count >= 0 AND bytes_served >= 0),
  CONSTRAINT chk_package_generations_ready CHECK (status <> 'ready' OR (
    object_key IS NOT NULL AND size_bytes IS NOT NULL AND content_sha256 IS NOT NULL
    AND manifest IS NOT NULL AND ready_at IS NOT NULL))
);
CREATE INDEX idx_package_generations_package_key_revision
  ON package_generations (package_key, content_revision);
CREATE INDEX idx_package_generations_status ON package_generations (status);
CREATE INDEX idx_package_generations_language_entity_id_type
  ON package_generations (language_entity_id, package_type);
CREATE INDEX idx_package_generations_audio_version_id ON package_generations (audio_version_id);
CREATE INDEX idx_package_generations_text_version_id ON package_generations (text_version_id);
CREATE INDEX idx_package_generations_series_id ON package_generations (series_id);

CREATE TABLE package_requests (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  package_key text NOT NULL,
  params jsonb NOT NULL,
  requested_by text,
  status text NOT NULL DEFAULT 'queued',
  job_id text,
  progress integer NOT NULL DEFAULT 0,
  stage text,
  package_generation_id uuid,
  error text,
  result jsonb,${TIMESTAMPS},
  started_at timestamptz,
  completed_at timestamptz,
  CONSTRAINT pk_package_requests PRIMARY KEY (id),
  CONSTRAINT fk_package_requests_package_generation_id FOREIGN KEY (package_generation_id)
    REFERENCES package_generations (id) ON DELETE SET NULL,
  CONSTRAINT chk_package_requests_status
    CHECK (status IN ('queued', 'active', 'completed', 'failed')),
  CONSTRAINT chk_package_requests_progress CHECK (progress >= 0 AND progress <= 100)
);
CREATE INDEX idx_package_requests_package_key_created_at ON package_requests (package_key, created_at);
CREATE INDEX idx_package_requests_status_created_at ON package_requests (status, created_at);
CREATE INDEX idx_package_requests_requested_by_created_at
  ON package_requests (requested_by, created_at);
CREATE INDEX idx_package_requests_job_id ON package_requests (job_id);
CREATE INDEX idx_package_requests_package_generation_id ON package_requests (package_generation_id);

CREATE TABLE sync_sessions (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id text NOT NULL,
  device_id text NOT NULL,
  package_id text,
  status text NOT NULL DEFAULT 'active',
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  changes_downloaded integer NOT NULL DEFAULT 0,
  changes_uploaded integer NOT NULL DEFAULT 0,
  conflicts_count integer NOT NULL DEFAULT 0,
  start_cursor text,
  end_cursor text,
  error text,${TIMESTAMPS},
  CONSTRAINT pk_sync_sessions PRIMARY KEY (id),
  CONSTRAINT chk_sync_sessions_status CHECK (status IN ('active', 'completed', 'failed', 'expired')),
  CONSTRAINT chk_sync_sessions_counters
    CHECK (changes_downloaded >= 0 AND changes_uploaded >= 0 AND conflicts_count >= 0)
);
CREATE INDEX idx_sync_sessions_user_id_started_at ON sync_sessions (user_id, started_at);
CREATE INDEX idx_sync_sessions_status_started_at ON sync_sessions (status, started_at);

CREATE TABLE sync_queue (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  client_id text NOT NULL,
  mutation_id text NOT NULL,
  user_id text NOT NULL,
  session_id uuid,
  table_name text NOT NULL,
  record_id text NOT NULL,
  operation text NOT NULL,
  data jsonb,
  base_version integer,
  client_updated_at timestamptz,
  status text NOT NULL DEFAULT 'pending',
  result jsonb,
  error text,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  CONSTRAINT pk_sync_queue PRIMARY KEY (id),
  CONSTRAINT uq_sync_queue_client_id_mutation_id UNIQUE (client_id, mutation_id),
  CONSTRAINT fk_sync_queue_session_id FOREIGN KEY (session_id)
    REFERENCES sync_sessions (id) ON DELETE SET NULL,
  CONSTRAINT chk_sync_queue_status
    CHECK (status IN ('pending', 'applied', 'rejected', 'conflict', 'ignored', 'failed')),
  CONSTRAINT chk_sync_queue_operation CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
  CONSTRAINT chk_sync_queue_attempts CHECK (attempts >= 0)
);
CREATE INDEX idx_sync_queue_status_created_at ON sync_queue (status, created_at);
CREATE INDEX idx_sync_queue_user_id_created_at ON sync_queue (user_id, created_at);
CREATE INDEX idx_sync_queue_session_id ON sync_queue (session_id);
CREATE INDEX idx_sync_queue_table_name_record_id ON sync_queue (table_name, record_id);

CREATE TABLE sync_conflicts (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  queue_id uuid,
  user_id text NOT NULL,
  table_name text NOT NULL,
  record_id text NOT NULL,
  base_version integer,
  server_version integer,
  client_data jsonb,
  server_data jsonb,
  resolution text,
  resolved_data jsonb,
  resolved_at timestamptz,
  resolved_by text,${TIMESTAMPS},
  CONSTRAINT pk_sync_conflicts PRIMARY KEY (id),
  CONSTRAINT fk_sync_conflicts_queue_id FOREIGN KEY (queue_id)
    REFERENCES sync_queue (id) ON DELETE SET NULL,
  CONSTRAINT chk_sync_conflicts_resolution
    CHECK (resolution IN ('client_wins', 'server_wins', 'merged')),
  CONSTRAINT chk_sync_conflicts_resolved CHECK ((resolution IS NULL) = (resolved_at IS NULL))
);
CREATE INDEX idx_sync_conflicts_user_id_created_at ON sync_conflicts (user_id, created_at);
CREATE INDEX idx_sync_conflicts_queue_id ON sync_conflicts (queue_id);
CREATE INDEX idx_sync_conflicts_table_name_record_id ON sync_conflicts (table_name, record_id);
CREATE INDEX idx_sync_conflicts_unresolved ON sync_conflicts (created_at) WHERE resolved_at IS NULL;

CREATE TABLE push_tokens (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id text NOT NULL,
  token text NOT NULL,
  platform text NOT NULL,
  device_id text,
  app_version text,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  invalidated_at timestamptz,${TIMESTAMPS},
  CONSTRAINT pk_push_tokens PRIMARY KEY (id),
  CONSTRAINT uq_push_tokens_user_id_token UNIQUE (user_id, token),
  CONSTRAINT chk_push_tokens_platform CHECK (platform IN ('ios', 'android', 'web'))
);
CREATE INDEX idx_push_tokens_token ON push_tokens (token);

CREATE TABLE notifications (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id text NOT NULL,
  type text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  error text,
  sent_at timestamptz,${TIMESTAMPS},
  CONSTRAINT pk_notifications PRIMARY KEY (id),
  CONSTRAINT chk_notifications_status CHECK (status IN ('pending', 'sent', 'failed')),
  CONSTRAINT chk_notifications_attempts CHECK (attempts >= 0)
);
CREATE INDEX idx_notifications_user_id_created_at ON notifications (user_id, created_at);
CREATE INDEX idx_notifications_status_created_at ON notifications (status, created_at);

CREATE TABLE webhook_subscriptions (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  url text NOT NULL,
  event_types text[] NOT NULL,
  secret_encrypted text NOT NULL,
  description text,
  active boolean NOT NULL DEFAULT true,
  created_by text,${TIMESTAMPS},
  CONSTRAINT pk_webhook_subscriptions PRIMARY KEY (id),
  CONSTRAINT chk_webhook_subscriptions_url CHECK (url ~ '^https?://'),
  CONSTRAINT chk_webhook_subscriptions_event_types CHECK (cardinality(event_types) > 0
    AND event_types <@ ARRAY['package.ready', 'package.failed', 'content.changed',
                             'sync.conflict']::text[])
);
CREATE INDEX idx_webhook_subscriptions_active ON webhook_subscriptions (active);

CREATE TABLE webhook_deliveries (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  subscription_id uuid NOT NULL,
  event_type text NOT NULL,
  event_id text,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  response_status integer,
  error text,
  next_attempt_at timestamptz,
  delivered_at timestamptz,${TIMESTAMPS},
  CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id),
  CONSTRAINT fk_webhook_deliveries_subscription_id FOREIGN KEY (subscription_id)
    REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  CONSTRAINT chk_webhook_deliveries_status CHECK (status IN ('pending', 'delivered', 'failed')),
  CONSTRAINT chk_webhook_deliveries_attempts CHECK (attempts >= 0)
);
CREATE INDEX idx_webhook_deliveries_subscription_id_created_at
  ON webhook_deliveries (subscription_id, created_at);
CREATE INDEX idx_webhook_deliveries_status_next_attempt_at
  ON webhook_deliveries (status, next_attempt_at);

${WITH_UPDATED_AT.map(
  (t) =>
    `CREATE TRIGGER ${t}_set_updated_at BEFORE UPDATE ON ${t}\n  FOR EACH ROW EXECUTE FUNCTION set_updated_at();`,
).join('\n')}
`;

const DOWN = `
DROP TABLE webhook_deliveries, webhook_subscriptions, notifications, push_tokens, sync_conflicts,
  sync_queue, sync_sessions, package_requests, package_generations;
`;

export class OperationsSchema1795300200000 implements MigrationInterface {
  name = 'OperationsSchema1795300200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}
