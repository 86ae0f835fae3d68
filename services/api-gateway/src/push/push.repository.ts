import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, type NotificationStatus, type PushPlatform, pgPool } from '@bible/common';

export interface TokenRow {
  id: string;
  user_id: string;
  platform: PushPlatform;
  token: string;
  device_id: string | null;
  locale: string | null;
  timezone: string | null;
  app_version: string | null;
  created_at: Date;
  last_seen_at: Date;
}

export interface NotificationRow {
  id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  status: NotificationStatus;
  attempts: number;
  error: string | null;
  provider: 'fcm' | 'apns' | 'webpush' | null;
  provider_message_id: string | null;
  push_token_id: string | null;
  event_id: string | null;
  not_before: Date | null;
  created_at: Date;
  sent_at: Date | null;
}

export interface PreferencesRow {
  disabled_types: string[];
  quiet_start: string | null;
  quiet_end: string | null;
  quiet_timezone: string | null;
  updated_at: Date;
}

export interface NewToken {
  userId: string;
  platform: PushPlatform;
  token: string;
  deviceId: string | null;
  locale: string | null;
  timezone: string | null;
  appVersion: string | null;
  p256dh: string | null;
  auth: string | null;
}

const TOKEN_COLUMNS = `id, user_id, platform, token, device_id, locale, timezone, app_version,
  created_at, last_seen_at`;

/** SQL of device tokens, notifications and preferences; every query is scoped to one user. */
@Injectable()
export class PushRepository {
  private readonly pool: Pool;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.pool = pgPool(dataSource);
  }

  /**
   * Registers a token for the user: a new token, the same token again (refreshed), or a token
   * another account held (moved here, with a new registration time). Returns the row and the
   * user who held the token before, if any. Older tokens of the same device and platform are
   * removed: apps re-register when their provider rotates the token.
   */
  async upsertToken(t: NewToken): Promise<{ row: TokenRow; previousUserId: string | null }> {
    const { rows } = await this.pool.query<TokenRow & { previous_user_id: string | null }>(
      `WITH prev AS (SELECT user_id FROM push_tokens WHERE token = $2)
       INSERT INTO push_tokens AS p (user_id, token, platform, device_id, locale, timezone,
                                     app_version, web_p256dh, web_auth)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (token) DO UPDATE SET
         user_id = EXCLUDED.user_id,
         platform = EXCLUDED.platform,
         device_id = coalesce(EXCLUDED.device_id, CASE WHEN p.user_id = EXCLUDED.user_id THEN p.device_id END),
         locale = coalesce(EXCLUDED.locale, CASE WHEN p.user_id = EXCLUDED.user_id THEN p.locale END),
         timezone = coalesce(EXCLUDED.timezone, CASE WHEN p.user_id = EXCLUDED.user_id THEN p.timezone END),
         app_version = coalesce(EXCLUDED.app_version, CASE WHEN p.user_id = EXCLUDED.user_id THEN p.app_version END),
         web_p256dh = EXCLUDED.web_p256dh,
         web_auth = EXCLUDED.web_auth,
         invalidated_at = NULL,
         last_seen_at = now(),
         registered_at = CASE WHEN p.user_id = EXCLUDED.user_id THEN p.registered_at ELSE now() END
       RETURNING ${TOKEN_COLUMNS}, (SELECT user_id FROM prev) AS previous_user_id`,
      [
        t.userId,
        t.token,
        t.platform,
        t.deviceId,
        t.locale,
        t.timezone,
        t.appVersion,
        t.p256dh,
        t.auth,
      ],
    );
    const { previous_user_id: previousUserId, ...row } = rows[0];
    if (row.device_id)
      await this.pool.query(
        `DELETE FROM push_tokens
          WHERE user_id = $1 AND device_id = $2 AND platform = $3 AND id <> $4`,
        [t.userId, row.device_id, t.platform, row.id],
      );
    return { row, previousUserId };
  }

  async listTokens(userId: string): Promise<TokenRow[]> {
    const { rows } = await this.pool.query<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM push_tokens
        WHERE user_id = $1 AND invalidated_at IS NULL
        ORDER BY created_at, id LIMIT 500`,
      [userId],
    );
    return rows;
  }

  async deleteToken(userId: string, id: string): Promise<boolean> {
    const r = await this.pool.query(`DELETE FROM push_tokens WHERE id = $1 AND user_id = $2`, [
      id,
      userId,
    ]);
    return r.rowCount === 1;
  }

  /** Newest first, keyset on (created_at, id). */
  async listNotifications(
    userId: string,
    status: NotificationStatus | undefined,
    before: [string, string] | undefined,
    limit: number,
  ): Promise<NotificationRow[]> {
    const { rows } = await this.pool.query<NotificationRow>(
      `SELECT id, type, title, body, data, status, attempts, error, provider, provider_message_id,
              push_token_id, event_id, not_before, created_at, sent_at
         FROM notifications
        WHERE user_id = $1
          AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $5`,
      [userId, status ?? null, before?.[0] ?? null, before?.[1] ?? null, limit + 1],
    );
    return rows;
  }

  async preferences(userId: string): Promise<PreferencesRow | undefined> {
    const { rows } = await this.pool.query<PreferencesRow>(
      `SELECT disabled_types, quiet_start::text AS quiet_start, quiet_end::text AS quiet_end,
              quiet_timezone, updated_at
         FROM notification_preferences WHERE user_id = $1`,
      [userId],
    );
    return rows[0];
  }

  async putPreferences(
    userId: string,
    disabled: string[],
    quiet: { start: string; end: string; timezone: string } | null,
  ): Promise<PreferencesRow> {
    const { rows } = await this.pool.query<PreferencesRow>(
      `INSERT INTO notification_preferences (user_id, disabled_types, quiet_start, quiet_end, quiet_timezone)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id) DO UPDATE SET
         disabled_types = EXCLUDED.disabled_types, quiet_start = EXCLUDED.quiet_start,
         quiet_end = EXCLUDED.quiet_end, quiet_timezone = EXCLUDED.quiet_timezone
       RETURNING disabled_types, quiet_start::text AS quiet_start, quiet_end::text AS quiet_end,
                 quiet_timezone, updated_at`,
      [userId, disabled, quiet?.start ?? null, quiet?.end ?? null, quiet?.timezone ?? null],
    );
    return rows[0];
  }
}
