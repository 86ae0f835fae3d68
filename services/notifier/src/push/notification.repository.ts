import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, pgPool } from '@bible/common';
import { Batcher } from '../webhooks/batcher';

export interface SendRow {
  id: string;
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

  /** Concurrent sends load their rows in one statement (one round trip under load). */
  private readonly loads = new Batcher<string, SendRow | undefined>(async (ids) => {
    const { rows } = await this.pool.query<SendRow>(
      `SELECT n.id, n.status, n.attempts, n.title, n.body, n.data, n.collapse_key, n.provider,
              n.not_before, t.id AS token_id, t.token, t.web_p256dh, t.web_auth, t.registered_at,
              e.created_at AS event_created_at
         FROM notifications n
         LEFT JOIN push_tokens t ON t.id = n.push_token_id AND t.invalidated_at IS NULL
         LEFT JOIN events e ON e.id = n.event_id
        WHERE n.id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id));
  });

  /** Successes of concurrent sends are recorded in one statement, each guarded by its attempt. */
  private readonly successes = new Batcher<
    { id: string; attempt: number; messageId: string | null },
    boolean
  >(async (items) => {
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE notifications n
          SET status = 'sent', attempts = u.attempt, provider_message_id = u.message_id,
              sent_at = now(), error = NULL
         FROM unnest($1::uuid[], $2::int[], $3::text[]) AS u(id, attempt, message_id)
        WHERE n.id = u.id AND n.status = 'pending' AND n.attempts < u.attempt
        RETURNING n.id`,
      [items.map((i) => i.id), items.map((i) => i.attempt), items.map((i) => i.messageId)],
    );
    const done = new Set(rows.map((r) => r.id));
    return items.map((i) => done.has(i.id));
  });

  load(id: string): Promise<SendRow | undefined> {
    return this.loads.add(id);
  }

  /** Records the provider's acceptance; false when another attempt settled it first. */
  sent(id: string, attempt: number, messageId: string | null): Promise<boolean> {
    return this.successes.add({ id, attempt, messageId });
  }

  /** Another attempt follows (the error is kept as last error). */
  async retry(id: string, attempt: number, error: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE notifications SET attempts = $2, error = $3
        WHERE id = $1 AND status = 'pending' AND attempts < $2`,
      [id, attempt, error],
    );
    return r.rowCount === 1;
  }

  async fail(id: string, attempt: number, error: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE notifications SET status = 'failed', attempts = greatest(attempts, $2), error = $3
        WHERE id = $1 AND status = 'pending'`,
      [id, attempt, error],
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
