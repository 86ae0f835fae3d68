import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, type TraceCarrier, pgPool } from '@bible/common';
import { Batcher } from './batcher';

/** What the worker needs to make one attempt (reloaded per job: payloads carry ids only). */
export interface DeliveryContext {
  id: string;
  subscription_id: string;
  event_id: string | null;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  payload: Record<string, unknown> | null;
  url: string;
  active: boolean;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
  event_data: Record<string, unknown> | null;
  event_created_at: Date | null;
  event_trace: TraceCarrier | null;
}

export interface AttemptRecord {
  deliveryId: string;
  subscriptionId: string;
  attempt: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  status: 'pending' | 'delivered' | 'failed';
  nextAttemptAt: Date | null;
  success: boolean;
  disableAfterMs: number;
}

/** SQL of the delivery worker. */
@Injectable()
export class DeliveryRepository {
  readonly pool: Pool;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.pool = pgPool(dataSource);
  }

  /** One delivery with what its attempt needs; concurrent loads share one query. */
  load(deliveryId: string): Promise<DeliveryContext | undefined> {
    return this.loads.add(deliveryId);
  }

  private readonly loads = new Batcher<string, DeliveryContext | undefined>(async (ids) => {
    const { rows } = await this.pool.query<DeliveryContext>(
      `SELECT d.id, d.subscription_id, d.event_id, d.event_type, d.status, d.attempts, d.payload,
              s.url, s.active, s.secret_encrypted, s.previous_secret_encrypted, s.previous_secret_expires_at,
              s.failing_since, e.data AS event_data, e.created_at AS event_created_at, e.trace AS event_trace
         FROM webhook_deliveries d
         JOIN webhook_subscriptions s ON s.id = d.subscription_id
         LEFT JOIN events e ON e.id = d.event_id
        WHERE d.id = ANY ($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id));
  });

  /**
   * Records a successful attempt of an endpoint that is not failing (the common case, so batched:
   * concurrent successes share one statement). Returns false when the attempt was already
   * recorded (a job run twice).
   */
  recordSuccess(
    a: Omit<
      AttemptRecord,
      'subscriptionId' | 'disableAfterMs' | 'success' | 'status' | 'nextAttemptAt' | 'error'
    >,
  ): Promise<boolean> {
    return this.successes.add(a);
  }

  private readonly successes = new Batcher<
    Pick<AttemptRecord, 'deliveryId' | 'attempt' | 'statusCode' | 'durationMs'>,
    boolean
  >(async (items) => {
    const { rows } = await this.pool.query<{ id: string; attempt: number }>(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[])
                    AS t(delivery_id, attempt, status_code, duration_ms)
       ), attempt AS (
         INSERT INTO webhook_delivery_attempts (delivery_id, attempt, status_code, duration_ms)
         SELECT delivery_id, attempt, status_code, duration_ms FROM input
         ON CONFLICT (delivery_id, attempt) DO NOTHING
         RETURNING delivery_id, attempt, status_code
       )
       UPDATE webhook_deliveries d
          SET attempts = a.attempt, status = 'delivered', response_status = a.status_code, error = NULL,
              next_attempt_at = NULL, delivered_at = now()
         FROM attempt a WHERE d.id = a.delivery_id
       RETURNING d.id, a.attempt`,
      [
        items.map((i) => i.deliveryId),
        items.map((i) => i.attempt),
        items.map((i) => i.statusCode),
        items.map((i) => i.durationMs),
      ],
    );
    const done = new Set(rows.map((r) => `${r.id}/${r.attempt}`));
    return items.map((i) => done.has(`${i.deliveryId}/${i.attempt}`));
  });

  /**
   * Records one attempt and its consequences in one statement (so one round trip and one
   * transaction): the attempt row, the delivery's state, and the endpoint's failure run, which
   * disables it once it has lasted WEBHOOK_DISABLE_AFTER. Returns null when the attempt was
   * already recorded (a job run twice), else whether this attempt disabled the endpoint.
   */
  async recordAttempt(a: AttemptRecord): Promise<{ disabled: boolean } | null> {
    const { rows } = await this.pool.query<{ recorded: boolean; disabled: boolean }>(
      `WITH attempt AS (
         INSERT INTO webhook_delivery_attempts (delivery_id, attempt, status_code, duration_ms, error, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (delivery_id, attempt) DO NOTHING
         RETURNING delivery_id
       ), delivery AS (
         UPDATE webhook_deliveries
            SET attempts = $2, status = $7, response_status = $3, error = $5, next_attempt_at = $6,
                delivered_at = CASE WHEN $7 = 'delivered' THEN now() ELSE delivered_at END
          WHERE id = (SELECT delivery_id FROM attempt)
          RETURNING id
       ), endpoint AS (
         UPDATE webhook_subscriptions s
            SET failing_since = CASE WHEN $8 THEN NULL ELSE coalesce(s.failing_since, now()) END,
                active = s.active AND NOT c.disable,
                disabled_at = CASE WHEN c.disable THEN now() ELSE s.disabled_at END,
                disabled_reason = CASE WHEN c.disable
                  THEN 'failing since ' || to_char(s.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ': ' || coalesce($5, 'error')
                  ELSE s.disabled_reason END
           FROM (SELECT id, coalesce(NOT $8 AND active AND failing_since <= now() - $10::float8 * interval '1 millisecond', false) AS disable
                   FROM webhook_subscriptions WHERE id = $9) c
          WHERE s.id = c.id AND EXISTS (SELECT 1 FROM delivery)
            -- write only on a change: a run starts or ends, or the endpoint is disabled
            AND CASE WHEN $8 THEN s.failing_since IS NOT NULL ELSE s.failing_since IS NULL OR c.disable END
          RETURNING c.disable AS disabled
       )
       SELECT EXISTS (SELECT 1 FROM delivery) AS recorded,
              coalesce((SELECT disabled FROM endpoint), false) AS disabled`,
      [
        a.deliveryId,
        a.attempt,
        a.statusCode,
        a.durationMs,
        a.error,
        a.nextAttemptAt,
        a.status,
        a.success,
        a.subscriptionId,
        a.disableAfterMs,
      ],
    );
    return rows[0]?.recorded ? { disabled: rows[0].disabled } : null;
  }

  /**
   * Ends a pending delivery without sending (endpoint disabled) or after its job failed for
   * infrastructure reasons. The attempt is recorded like a sent one, so the job id it used is
   * never needed again: a later retry or replay takes the next attempt number.
   */
  async skip(deliveryId: string, attempt: number, reason: string): Promise<void> {
    await this.pool.query(
      `WITH attempt AS (
         INSERT INTO webhook_delivery_attempts (delivery_id, attempt, duration_ms, error)
         SELECT id, $2, 0, $3 FROM webhook_deliveries
          WHERE id = $1 AND status = 'pending' AND attempts < $2
         ON CONFLICT (delivery_id, attempt) DO NOTHING
         RETURNING delivery_id
       )
       UPDATE webhook_deliveries SET status = 'failed', attempts = $2, error = $3, next_attempt_at = NULL
        WHERE id = (SELECT delivery_id FROM attempt)`,
      [deliveryId, attempt, reason],
    );
  }

  /** A job that failed for infrastructure reasons after all its BullMQ retries. */
  fail(deliveryId: string, attempt: number, reason: string): Promise<void> {
    return this.skip(deliveryId, attempt, reason.slice(0, 500));
  }
}
