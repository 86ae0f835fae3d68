import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Bookkeeping of the change feed owned by sync-service:
 *  - sync_relay_state: how far the relay has published change_log (a (txid, id) position), so a
 *    restarted relay resumes exactly where it stopped and relays every change once.
 *  - change_log_horizons: per sync scope, the newest change_log position that retention has
 *    deleted. A pull cursor below its scope's horizon may have missed deleted rows: it is expired
 *    (409 SYNC_CURSOR_INVALID) and the client must resync from a package.
 */
const UP = `
CREATE TABLE sync_relay_state (
  name text NOT NULL,
  txid bigint NOT NULL DEFAULT 0,
  change_id bigint NOT NULL DEFAULT 0,
  last_changed_at timestamptz,
  relayed_count bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_sync_relay_state PRIMARY KEY (name),
  CONSTRAINT chk_sync_relay_state_position CHECK (txid >= 0 AND change_id >= 0)
);

CREATE TABLE change_log_horizons (
  scope_column text NOT NULL,
  scope_id text NOT NULL,
  txid bigint NOT NULL,
  change_id bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pk_change_log_horizons PRIMARY KEY (scope_column, scope_id),
  CONSTRAINT chk_change_log_horizons_scope_column
    CHECK (scope_column IN ('audio_version_id', 'text_version_id'))
);
`;

const DOWN = `
DROP TABLE change_log_horizons;
DROP TABLE sync_relay_state;
`;

export class SyncFeed1795300600000 implements MigrationInterface {
  name = 'SyncFeed1795300600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}
