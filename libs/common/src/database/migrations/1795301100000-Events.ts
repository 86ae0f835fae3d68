import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * The events outbox (issue 11). Producers insert a row in the same transaction as the fact it
 * reports (a published package, a final build failure, a sync conflict, a relayed content
 * batch), so an event exists exactly when its fact does. Readers order by (txid, seq) and only
 * read txid < change_log_safe_xmin(), as the change feed does: seq values are handed out before
 * commit, so seq alone could skip an event whose transaction commits late.
 *  - seq: identity, unique; the notifier claims undispatched events in this order.
 *  - dispatched_at: set once the notifier has fanned an event out; retention never deletes
 *    undispatched events.
 */
const UP = `
CREATE TABLE events (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  seq bigint GENERATED ALWAYS AS IDENTITY,
  txid bigint NOT NULL DEFAULT change_log_current_txid(),
  type text NOT NULL,
  data jsonb NOT NULL,
  user_id text,
  trace jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  dispatched_at timestamptz,
  CONSTRAINT pk_events PRIMARY KEY (id),
  CONSTRAINT uq_events_seq UNIQUE (seq),
  CONSTRAINT chk_events_type
    CHECK (type IN ('package.ready', 'package.failed', 'content.changed', 'sync.conflict'))
);
CREATE INDEX idx_events_txid_seq ON events (txid, seq);
CREATE INDEX idx_events_type_txid_seq ON events (type, txid, seq);
CREATE INDEX idx_events_undispatched_seq ON events (seq) WHERE dispatched_at IS NULL;
CREATE INDEX idx_events_created_at ON events (created_at);
`;

const DOWN = `
DROP TABLE events;
`;

export class Events1795301100000 implements MigrationInterface {
  name = 'Events1795301100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}
