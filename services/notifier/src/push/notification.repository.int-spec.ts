// The settling statements of NotificationRepository against the real test Postgres: which send
// job may settle which notification (claims, attempts), the rules the push e2e suite reaches only
// through timing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { freshTestDataSource } from '@bible/common/database/testing';
import { NotificationRepository } from './notification.repository';

describe('NotificationRepository (real Postgres)', () => {
  let db: DataSource;
  let repo: NotificationRepository;

  before(async () => {
    db = await freshTestDataSource();
    repo = new NotificationRepository(db);
  });

  after(async () => {
    await db?.destroy();
  });

  const notification = async (attempts: number, sendJob: string | null): Promise<string> => {
    const rows: { id: string }[] = await db.query(
      `INSERT INTO notifications (user_id, type, title, body, provider, attempts, send_job)
       VALUES ('repo-user', 'package.ready', 'Download ready', 'b', 'fcm', $1, $2)
       RETURNING id`,
      [attempts, sendJob],
    );
    return rows[0].id;
  };
  const status = async (id: string) => {
    const rows: { status: string; send_job: string | null }[] = await db.query(
      `SELECT status, send_job FROM notifications WHERE id = $1`,
      [id],
    );
    return rows[0];
  };

  it('a send job that gives up fails its own and unclaimed notifications only', async () => {
    const claimedByOther = await notification(0, 'job-b');
    const overtaken = await notification(2, null);
    const unclaimed = await notification(0, null);
    const own = await notification(0, 'job-a');

    assert.equal(await repo.failOfJob(claimedByOther, 1, 'job-a', 'send job failed: x'), false);
    assert.deepEqual(await status(claimedByOther), { status: 'pending', send_job: 'job-b' });
    assert.equal(await repo.failOfJob(overtaken, 1, 'job-a', 'send job failed: x'), false);
    assert.equal((await status(overtaken)).status, 'pending');

    assert.equal(await repo.failOfJob(unclaimed, 1, 'job-a', 'send job failed: x'), true);
    assert.equal(await repo.failOfJob(own, 1, 'job-a', 'send job failed: x'), true);
    assert.deepEqual(await status(own), { status: 'failed', send_job: null });
    // The claiming job itself still settles the one it holds.
    assert.equal(await repo.failOfJob(claimedByOther, 1, 'job-b', 'send job failed: y'), true);
  });

  it('a claim is taken once per attempt, and kept by the job that holds it', async () => {
    const id = await notification(0, null);
    assert.ok(await repo.claim(id, 1, 'job-a'));
    assert.equal(await repo.claim(id, 1, 'job-b'), undefined, 'held by job-a');
    assert.ok(await repo.claim(id, 1, 'job-a'), 'job-a re-running after a crash keeps it');
    await repo.release(id, 'job-a');
    assert.ok(await repo.claim(id, 1, 'job-b'), 'released: job-b may take it');
    assert.equal(await repo.sent(id, 1, 'm-1'), true);
    assert.deepEqual(await status(id), { status: 'sent', send_job: null });
    assert.equal(await repo.claim(id, 2, 'job-c'), undefined, 'sent: nothing left to claim');
  });
});
