import type { Pool } from 'pg';
import type { EventType, PushPlatform } from '@bible/common';

/** One recipient device with its owner's preferences. */
export interface RecipientRow {
  id: string;
  user_id: string;
  platform: PushPlatform;
  locale: string | null;
  quiet_start: string | null;
  quiet_end: string | null;
  quiet_timezone: string | null;
}

/** Who an event notifies: users' devices, or the devices holding a package of a version. */
export type Audience =
  | { kind: 'users'; userIds: string[] }
  | { kind: 'version'; scope: 'text' | 'audio'; versionId: string };

export function audienceOf(
  type: EventType,
  data: Record<string, unknown>,
  userId: string | null,
): Audience | null {
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  switch (type) {
    case 'package.ready':
    case 'package.failed': {
      const users = new Set([...strings(data.requestedBy), ...(userId ? [userId] : [])]);
      return users.size > 0 ? { kind: 'users', userIds: [...users] } : null;
    }
    case 'sync.conflict': {
      const editor = typeof data.userId === 'string' ? data.userId : userId;
      return editor ? { kind: 'users', userIds: [editor] } : null;
    }
    case 'content.changed':
      return typeof data.versionId === 'string' && (data.scope === 'text' || data.scope === 'audio')
        ? { kind: 'version', scope: data.scope, versionId: data.versionId }
        : null;
  }
}

const COLUMNS = `t.id, t.user_id, t.platform, t.locale,
  p.quiet_start::text AS quiet_start, p.quiet_end::text AS quiet_end, p.quiet_timezone`;

/**
 * One keyset page (token id order) of an event's recipients, without the devices of users who
 * switched the event type off. A version's holders are the devices with a sync session on a
 * package of the version, and every device of a user whose package request built one.
 */
export async function recipientsPage(
  pool: Pool,
  audience: Audience,
  type: EventType,
  platforms: readonly PushPlatform[],
  after: string | null,
  limit: number,
): Promise<RecipientRow[]> {
  const common = `t.invalidated_at IS NULL
    AND t.platform = ANY($2::text[])
    AND ($3::uuid IS NULL OR t.id > $3::uuid)
    AND NOT ($4::text = ANY (coalesce(p.disabled_types, '{}')))`;
  if (audience.kind === 'users') {
    const { rows } = await pool.query<RecipientRow>(
      `SELECT ${COLUMNS}
         FROM push_tokens t LEFT JOIN notification_preferences p ON p.user_id = t.user_id
        WHERE t.user_id = ANY($1::text[]) AND ${common}
        ORDER BY t.id LIMIT $5`,
      [audience.userIds, platforms, after, type, limit],
    );
    return rows;
  }
  const column = audience.scope === 'text' ? 'text_version_id' : 'audio_version_id';
  const { rows } = await pool.query<RecipientRow>(
    `SELECT ${COLUMNS}
       FROM push_tokens t LEFT JOIN notification_preferences p ON p.user_id = t.user_id
      WHERE ${common}
        AND (EXISTS (SELECT 1 FROM sync_sessions s
                       JOIN package_generations g ON g.package_id = s.package_id
                      WHERE s.user_id = t.user_id AND s.device_id = t.device_id
                        AND g.${column} = $1)
          OR EXISTS (SELECT 1 FROM package_requests r
                       JOIN package_generations g ON g.id = r.package_generation_id
                      WHERE r.requested_by = t.user_id AND g.${column} = $1))
      ORDER BY t.id LIMIT $5`,
    [audience.versionId, platforms, after, type, limit],
  );
  return rows;
}

export interface NewNotification {
  user_id: string;
  title: string;
  body: string;
  data: Record<string, string>;
  token_id: string;
  provider: string;
  locale: string;
  not_before: string | null;
}

/**
 * Inserts a page's notifications (a row that exists for the (event, device), or for the device's
 * coalescing window, is left alone) and returns every still-pending notification of the page,
 * new or left over by an earlier run of the page that crashed before adding its jobs.
 */
export async function insertPage(
  pool: Pool,
  event: { id: string; type: EventType },
  collapseKey: string,
  coalesceWindow: Date | null,
  rows: NewNotification[],
): Promise<{ id: string; provider: string; attempts: number; not_before: Date | null }[]> {
  const result = await pool.query<{
    id: string;
    provider: string;
    attempts: number;
    not_before: Date | null;
  }>(
    `WITH inserted AS (
       INSERT INTO notifications (user_id, type, title, body, data, event_id, push_token_id,
                                  provider, collapse_key, coalesce_window, locale, not_before)
       SELECT r.user_id, $2, r.title, r.body, r.data, $1::uuid, r.token_id, r.provider, $3, $4,
              r.locale, r.not_before
         FROM jsonb_to_recordset($5::jsonb) AS r(user_id text, title text, body text, data jsonb,
              token_id uuid, provider text, locale text, not_before timestamptz)
       ON CONFLICT DO NOTHING
       RETURNING id, provider, attempts, not_before
     )
     SELECT id, provider, attempts, not_before FROM inserted
     UNION
     SELECT n.id, n.provider, n.attempts, n.not_before FROM notifications n
      WHERE n.event_id = $1::uuid AND n.status = 'pending'
        AND n.push_token_id = ANY (SELECT (r->>'token_id')::uuid FROM jsonb_array_elements($5::jsonb) r)`,
    [event.id, event.type, collapseKey, coalesceWindow, JSON.stringify(rows)],
  );
  return result.rows;
}
