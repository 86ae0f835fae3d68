import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Delta packages (issue 15). A delta is a package generation like any other (same identity
 * key, its target revision in content_revision) that also names the full package it applies
 * to and that package's revision; full packages have both NULL. A request for an update
 * records the base the client holds, which the builder reloads (payloads carry ids only).
 */
const UP = `
ALTER TABLE package_generations
  ADD COLUMN base_package_id text,
  ADD COLUMN base_revision text,
  ADD CONSTRAINT chk_package_generations_delta
    CHECK ((base_package_id IS NULL) = (base_revision IS NULL));
ALTER TABLE package_requests ADD COLUMN base_package_id text;
`;

const DOWN = `
ALTER TABLE package_requests DROP COLUMN base_package_id;
ALTER TABLE package_generations
  DROP CONSTRAINT chk_package_generations_delta,
  DROP COLUMN base_revision,
  DROP COLUMN base_package_id;
`;

export class DeltaPackages1795301400000 implements MigrationInterface {
  name = 'DeltaPackages1795301400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}
