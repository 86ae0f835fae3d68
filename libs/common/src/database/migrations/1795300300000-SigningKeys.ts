import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Public halves of the Ed25519 keys that sign packages. Builders register their key at boot; the
 * gateway publishes the non-retired ones at /v1/packages/keys so phones can verify offline.
 */
export class SigningKeys1795300300000 implements MigrationInterface {
  name = 'SigningKeys1795300300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
CREATE TABLE signing_keys (
  key_id text NOT NULL,
  algorithm text NOT NULL DEFAULT 'Ed25519',
  public_key text NOT NULL,
  public_key_pem text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  retired_at timestamptz,
  CONSTRAINT pk_signing_keys PRIMARY KEY (key_id),
  CONSTRAINT chk_signing_keys_algorithm CHECK (algorithm IN ('Ed25519')),
  CONSTRAINT chk_signing_keys_key_id CHECK (key_id ~ '^[A-Za-z0-9._-]{1,64}$')
)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE signing_keys`);
  }
}
