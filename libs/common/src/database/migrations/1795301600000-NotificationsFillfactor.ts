import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * A push send updates its notification twice (the claim, then the outcome). With full pages
 * every update writes a new tuple on another page and an entry in each of the table's six
 * indexes; with room left on each page the claim (no indexed column) is a HOT update in place.
 * Applies to pages written from now on.
 */
const UP = `ALTER TABLE notifications SET (fillfactor = 70);`;

const DOWN = `ALTER TABLE notifications RESET (fillfactor);`;

export class NotificationsFillfactor1795301600000 implements MigrationInterface {
  name = 'NotificationsFillfactor1795301600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}
