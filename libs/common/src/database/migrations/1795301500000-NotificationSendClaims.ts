import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Push sends go out in batch jobs (one job, many notifications). A notification can end up in
 * two jobs for the same attempt (a fan-out page re-run after some of its batches ran regroups the
 * rest), so a job claims each notification before sending it: `send_job` names the job that may
 * send the current attempt; the same job re-running after a crash keeps its claim, any other job
 * skips the notification. Settling an attempt clears it.
 */
const UP = `ALTER TABLE notifications ADD COLUMN send_job text;`;

const DOWN = `ALTER TABLE notifications DROP COLUMN send_job;`;

export class NotificationSendClaims1795301500000 implements MigrationInterface {
  name = 'NotificationSendClaims1795301500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN);
  }
}
