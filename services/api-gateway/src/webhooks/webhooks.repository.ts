import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, type EventType, pgPool } from '@bible/common';

export interface SubscriptionRow {
  id: string;
  url: string;
  event_types: EventType[];
  description: string | null;
  active: boolean;
  disabled_at: Date | null;
  disabled_reason: string | null;
  failing_since: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** created_at to the microsecond (a JS Date keeps milliseconds): the list cursor. */
  cursor_at: string;
}

export interface AttemptRow {
  attempt: number;
  attempted_at: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  next_attempt_at: string | null;
}

export interface DeliveryRow {
  id: string;
  event_id: string | null;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  response_status: number | null;
  error: string | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
  cursor_at: string;
  attempt_history: AttemptRow[];
}

/** A delivery whose next attempt must be queued. */
export interface ScheduledRow {
  id: string;
  event_id: string | null;
  attempts: number;
  created_at?: Date;
}

const CURSOR_AT = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`;

const SUBSCRIPTION = `id, url, event_types, description, active, disabled_at, disabled_reason,
  failing_since, CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END AS previous_secret_expires_at,
  created_at, updated_at, ${CURSOR_AT('created_at')}`;

/** SQL of the admin webhook routes. */
@Injectable()
export class WebhooksRepository {
  private readonly pool: Pool;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.pool = pgPool(dataSource);
  }

  async create(s: {
    url: string;
    eventTypes: EventType[];
    description: string | null;
    secretEncrypted: string;
    createdBy: string;
  }): Promise<SubscriptionRow> {
    const { rows } = await this.pool.query<SubscriptionRow>(
      `INSERT INTO webhook_subscriptions (url, event_types, description, secret_encrypted, created_by)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${SUBSCRIPTION}`,
      [s.url, s.eventTypes, s.description, s.secretEncrypted, s.createdBy],
    );
    return rows[0];
  }

  async list(after: [string, string] | undefined, limit: number): Promise<SubscriptionRow[]> {
    const { rows } = await this.pool.query<SubscriptionRow>(
      `SELECT ${SUBSCRIPTION} FROM webhook_subscriptions
        WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid)
        ORDER BY created_at, id LIMIT $3`,
      [after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
    return rows;
  }

  async find(id: string): Promise<SubscriptionRow | undefined> {
    const { rows } = await this.pool.query<SubscriptionRow>(
      `SELECT ${SUBSCRIPTION} FROM webhook_subscriptions WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async update(
    id: string,
    change: {
      url?: string;
      eventTypes?: EventType[];
      description?: string | null;
      enabled?: boolean;
      by: string;
    },
  ): Promise<SubscriptionRow | undefined> {
    const { rows } = await this.pool.query<SubscriptionRow>(
      `UPDATE webhook_subscriptions SET
          url = coalesce($2, url),
          event_types = coalesce($3, event_types),
          description = CASE WHEN $4 THEN $5 ELSE description END,
          active = coalesce($6, active),
          disabled_at = CASE WHEN $6 IS NULL THEN disabled_at WHEN $6 THEN NULL
                             WHEN active THEN now() ELSE disabled_at END,
          disabled_reason = CASE WHEN $6 IS NULL THEN disabled_reason WHEN $6 THEN NULL
                                 WHEN active THEN 'disabled by ' || $7 ELSE disabled_reason END,
          failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END
        WHERE id = $1 RETURNING ${SUBSCRIPTION}`,
      [
        id,
        change.url ?? null,
        change.eventTypes ?? null,
        change.description !== undefined,
        change.description ?? null,
        change.enabled ?? null,
        change.by,
      ],
    );
    return rows[0];
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.pool.query(`DELETE FROM webhook_subscriptions WHERE id = $1`, [id]);
    return (result.rowCount ?? 0) > 0;
  }

  /** The current secret becomes the previous one (valid until `expiresAt`). */
  async rotate(id: string, secretEncrypted: string, overlapMs: number): Promise<Date | undefined> {
    const { rows } = await this.pool.query<{ previous_secret_expires_at: Date }>(
      `UPDATE webhook_subscriptions
          SET previous_secret_encrypted = secret_encrypted, secret_encrypted = $2,
              previous_secret_expires_at = now() + $3::float8 * interval '1 millisecond'
        WHERE id = $1 RETURNING previous_secret_expires_at`,
      [id, secretEncrypted, overlapMs],
    );
    return rows[0]?.previous_secret_expires_at;
  }

  async deliveries(
    subscriptionId: string,
    status: string | undefined,
    after: [string, string] | undefined,
    limit: number,
  ): Promise<DeliveryRow[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `SELECT d.id, d.event_id, d.event_type, d.status, d.attempts, d.response_status, d.error,
              d.next_attempt_at, d.delivered_at, d.created_at, ${CURSOR_AT('d.created_at')},
              coalesce((SELECT json_agg(json_build_object(
                         'attempt', a.attempt, 'attempted_at', a.attempted_at, 'status_code', a.status_code,
                         'duration_ms', a.duration_ms, 'error', a.error, 'next_attempt_at', a.next_attempt_at)
                         ORDER BY a.attempt)
                  FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS attempt_history
         FROM webhook_deliveries d
        WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.status = $2)
          AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3::timestamptz, $4::uuid))
        ORDER BY d.created_at DESC, d.id DESC LIMIT $5`,
      [subscriptionId, status ?? null, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
    return rows;
  }

  /** A finished delivery back to pending; undefined when absent, null when already pending. */
  async reschedule(
    subscriptionId: string,
    deliveryId: string,
  ): Promise<ScheduledRow | null | undefined> {
    const { rows } = await this.pool.query<ScheduledRow & { rescheduled: boolean }>(
      `WITH target AS (
         SELECT id, status FROM webhook_deliveries WHERE id = $2 AND subscription_id = $1 FOR UPDATE
       ), changed AS (
         UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), error = NULL
           FROM target t WHERE d.id = t.id AND t.status <> 'pending'
         RETURNING d.id, d.event_id, d.attempts
       )
       SELECT t.id, c.event_id, c.attempts, c.id IS NOT NULL AS rescheduled
         FROM target t LEFT JOIN changed c ON c.id = t.id`,
      [subscriptionId, deliveryId],
    );
    if (!rows[0]) return undefined;
    return rows[0].rescheduled ? rows[0] : null;
  }

  /**
   * Schedules again every dispatched event of the subscription's types recorded since `since`
   * (oldest first, at most `limit`): new deliveries for events it never got, finished ones back
   * to pending. Deliveries already pending are left alone (they will be attempted anyway).
   */
  async replay(subscriptionId: string, since: string, limit: number): Promise<ScheduledRow[]> {
    const { rows } = await this.pool.query<ScheduledRow>(
      `WITH picked AS (
         SELECT e.id, e.type, e.created_at FROM events e, webhook_subscriptions s
          WHERE s.id = $1 AND e.type = ANY (s.event_types) AND e.created_at >= $2::timestamptz
            AND e.dispatched_at IS NOT NULL
          ORDER BY e.created_at, e.seq LIMIT $3
       ), scheduled AS (
         INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, next_attempt_at)
         SELECT $1, p.id, p.type, now() FROM picked p
         ON CONFLICT (event_id, subscription_id) DO UPDATE
           SET status = 'pending', next_attempt_at = now(), error = NULL
           WHERE webhook_deliveries.status <> 'pending'
         RETURNING id, event_id, attempts
       )
       SELECT s.id, s.event_id, s.attempts, p.created_at
         FROM picked p LEFT JOIN scheduled s ON s.event_id = p.id
        ORDER BY p.created_at`,
      [subscriptionId, since, limit],
    );
    return rows;
  }

  /** A `webhook.test` delivery (no stored event: it carries its payload). */
  async createTest(subscriptionId: string, payload: object): Promise<ScheduledRow> {
    const { rows } = await this.pool.query<ScheduledRow>(
      `INSERT INTO webhook_deliveries (subscription_id, event_type, payload, next_attempt_at)
       VALUES ($1, 'webhook.test', $2, now()) RETURNING id, event_id, attempts`,
      [subscriptionId, JSON.stringify(payload)],
    );
    return rows[0];
  }
}
