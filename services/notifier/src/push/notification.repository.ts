import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, pgPool } from '@bible/common';
import { Batcher } from '../webhooks/batcher';

export interface SendRow {
  id: string;
  /** The attempt the claiming job makes. */
  attempt: number;
  status: string;
  attempts: number;
  title: string;
  body: string;
  data: Record<string, string>;
  collapse_key: string | null;
  provider: string | null;
  not_before: Date | null;
  token_id: string | null;
  token: string | null;
  web_p256dh: string | null;
  web_auth: string | null;
  registered_at: Date | null;
  event_created_at: Date | null;
}

/** Notification rows as the send worker reads and settles them (each settle: one statement). */
@Injectable()
export class NotificationRepository {
  private readonly pool: Pool;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.pool = pgPool(dataSource);
  }

  /**
   * Claims notifications for the jobs that send them and loads what the sends need, in one
   * statement for all concurrent jobs. A notification is claimed when its attempt is still to be
   * made and no other job holds it (the same job re-running after a crash keeps its claim).
   */
  private readonly claims = new Batcher<
    { id: string; attempt: number; job: string },
    SendRow | undefined
  >(async (items) => {
    const { rows } = await this.pool.query<SendRow & { job: string }>(
      `WITH claimed AS (
         UPDATE notifications n SET send_job = s.job
           FROM unnest($1::uuid[], $2::int[], $3::text[]) AS s(id, attempt, job)
          WHERE n.id = s.id AND n.status = 'pending' AND n.attempts < s.attempt
            AND (n.send_job IS NULL OR n.send_job = s.job)
         RETURNING n.id, s.attempt, s.job, n.status, n.attempts, n.title, n.body, n.data,
                   n.collapse_key, n.provider, n.not_before, n.push_token_id, n.event_id
       )
       SELECT c.id, c.attempt, c.job, c.status, c.attempts, c.title, c.body, c.data,
              c.collapse_key, c.provider, c.not_before, t.id AS token_id, t.token, t.web_p256dh,
              t.web_auth, t.registered_at, e.created_at AS event_created_at
         FROM claimed c
         LEFT JOIN push_tokens t ON t.id = c.push_token_id AND t.invalidated_at IS NULL
         LEFT JOIN events e ON e.id = c.event_id`,
      [items.map((i) => i.id), items.map((i) => i.attempt), items.map((i) => i.job)],
    );
    const byKey = new Map(rows.map((r) => [`${r.id} ${r.job}`, r]));
    return items.map((i) => byKey.get(`${i.id} ${i.job}`));
  });

  /** Successes of concurrent sends are recorded in one statement, each guarded by its attempt. */
  private readonly successes = new Batcher<
    { id: string; attempt: number; messageId: string | null },
    boolean
  >(
    async (items) => {
      const { rows } = await this.pool.query<{ id: string }>(
        `UPDATE notifications n
          SET status = 'sent', attempts = u.attempt, provider_message_id = u.message_id,
              sent_at = now(), error = NULL, send_job = NULL
         FROM unnest($1::uuid[], $2::int[], $3::text[]) AS u(id, attempt, message_id)
        WHERE n.id = u.id AND n.status = 'pending' AND n.attempts < u.attempt
        RETURNING n.id`,
        [items.map((i) => i.id), items.map((i) => i.attempt), items.map((i) => i.messageId)],
      );
      const done = new Set(rows.map((r) => r.id));
      return items.map((i) => done.has(i.id));
      // Sends finish one by one: lingering 5 ms records ten or more in a statement under load.
    },
    500,
    2,
    5,
  );

  /** The notification's row when `job` may send this attempt; undefined when it may not. */
  claim(id: string, attempt: number, job: string): Promise<SendRow | undefined> {
    return this.claims.add({ id, attempt, job });
  }

  /** Gives a claim back (the notification goes out in a job of its own). */
  async release(id: string, job: string): Promise<void> {
    await this.pool.query(
      `UPDATE notifications SET send_job = NULL WHERE id = $1 AND send_job = $2`,
      [id, job],
    );
  }

  /** Records the provider's acceptance; false when another attempt settled it first. */
  sent(id: string, attempt: number, messageId: string | null): Promise<boolean> {
    return this.successes.add({ id, attempt, messageId });
  }

  /** Another attempt follows (the error is kept as last error). */
  async retry(id: string, attempt: number, error: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE notifications SET attempts = $2, error = $3, send_job = NULL
        WHERE id = $1 AND status = 'pending' AND attempts < $2`,
      [id, attempt, error],
    );
    return r.rowCount === 1;
  }

  async fail(id: string, attempt: number, error: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE notifications
          SET status = 'failed', attempts = greatest(attempts, $2), error = $3, send_job = NULL
        WHERE id = $1 AND status = 'pending'`,
      [id, attempt, error],
    );
    return r.rowCount === 1;
  }

  /**
   * A send job gave up (its last attempt threw): its notifications fail, except those another
   * job claimed or a later attempt took over, which are not this job's to settle.
   */
  async failOfJob(id: string, attempt: number, job: string, error: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE notifications
          SET status = 'failed', attempts = greatest(attempts, $2), error = $3, send_job = NULL
        WHERE id = $1 AND status = 'pending' AND attempts < $2
          AND (send_job IS NULL OR send_job = $4)`,
      [id, attempt, error, job],
    );
    return r.rowCount === 1;
  }

  /**
   * Deletes a token the provider reported invalid, unless it was registered (again) after the
   * moment the provider says it became invalid. The notifications keep their history (their
   * push_token_id becomes NULL); pending ones fail on their next attempt.
   */
  async pruneToken(tokenId: string, invalidSince: Date | undefined): Promise<boolean> {
    const r = await this.pool.query(
      `DELETE FROM push_tokens WHERE id = $1 AND ($2::timestamptz IS NULL OR registered_at <= $2)`,
      [tokenId, invalidSince ?? null],
    );
    return r.rowCount === 1;
  }
}
