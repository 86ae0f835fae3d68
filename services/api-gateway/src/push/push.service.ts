import { Inject, Injectable } from '@nestjs/common';
import { AppError, EVENT_TYPES, ErrorCode } from '@bible/common';
import { checkUrl } from '@bible/common/egress/address-guard';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { cursorFromQuery, toPage } from '../content/page-cursor';
import {
  type NotificationRow,
  type PreferencesRow,
  PushRepository,
  type TokenRow,
} from './push.repository';
import type { ListNotificationsQuery, PutPreferences, RegisterToken } from './push.schemas';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
/** `time` columns read as HH:MM:SS; answer HH:MM when the seconds are zero. */
const hhmm = (t: string) => (t.endsWith(':00') ? t.slice(0, 5) : t);

export function tokenView(r: TokenRow) {
  return {
    id: r.id,
    platform: r.platform,
    token: r.token,
    deviceId: r.device_id,
    locale: r.locale,
    timezone: r.timezone,
    appVersion: r.app_version,
    createdAt: iso(r.created_at) as string,
    lastSeenAt: iso(r.last_seen_at) as string,
  };
}

export function notificationView(r: NotificationRow) {
  return {
    id: r.id,
    type: r.type,
    title: r.title,
    body: r.body,
    data: r.data,
    status: r.status,
    attempts: r.attempts,
    lastError: r.error,
    provider: r.provider,
    providerMessageId: r.provider_message_id,
    pushTokenId: r.push_token_id,
    eventId: r.event_id,
    notBefore: iso(r.not_before),
    createdAt: iso(r.created_at) as string,
    sentAt: iso(r.sent_at),
  };
}

export function preferencesView(r: PreferencesRow | undefined) {
  const disabled = new Set(r?.disabled_types ?? []);
  return {
    eventTypes: Object.fromEntries(EVENT_TYPES.map((t) => [t, !disabled.has(t)])),
    quietHours:
      r?.quiet_start && r.quiet_end && r.quiet_timezone
        ? { start: hhmm(r.quiet_start), end: hhmm(r.quiet_end), timezone: r.quiet_timezone }
        : null,
    updatedAt: iso(r?.updated_at ?? null),
  };
}

/** Device tokens, the caller's notifications and preferences (docs/notifications.md). */
@Injectable()
export class PushService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly repo: PushRepository,
  ) {}

  /** 201 for a token new to the caller (new, or moved from another account), 200 when known. */
  async register(
    userId: string,
    body: RegisterToken,
  ): Promise<{ status: 200 | 201; view: ReturnType<typeof tokenView> }> {
    const web = body.platform === 'web' ? body.token : null;
    if (web) {
      const verdict = await checkUrl(new URL(web.endpoint), this.config.WEBHOOK_ALLOWED_CIDRS);
      if (!verdict.ok)
        throw new AppError(400, ErrorCode.ValidationFailed, 'Request validation failed', [
          { field: 'body.token.endpoint', message: verdict.reason, code: 'address_refused' },
        ]);
    }
    const { row, previousUserId } = await this.repo.upsertToken({
      userId,
      platform: body.platform,
      token: web ? web.endpoint : (body.token as string),
      deviceId: body.deviceId ?? null,
      locale: body.locale?.replace('_', '-') ?? null,
      timezone: body.timezone ?? null,
      appVersion: body.appVersion ?? null,
      p256dh: web?.keys.p256dh ?? null,
      auth: web?.keys.auth ?? null,
    });
    return { status: previousUserId === userId ? 200 : 201, view: tokenView(row) };
  }

  async list(userId: string) {
    return { items: (await this.repo.listTokens(userId)).map(tokenView) };
  }

  /** Someone else's token answers 404 like a missing one (ids are not confirmed to others). */
  async remove(userId: string, id: string): Promise<void> {
    if (!(await this.repo.deleteToken(userId, id)))
      throw new AppError(404, ErrorCode.NotFound, `Push token ${id} not found`);
  }

  vapidPublicKey() {
    if (!this.config.VAPID_PUBLIC_KEY)
      throw new AppError(404, ErrorCode.NotFound, 'Web Push is not configured on this server');
    return { publicKey: this.config.VAPID_PUBLIC_KEY };
  }

  async notifications(userId: string, query: ListNotificationsQuery) {
    const filters = { status: query.status };
    const cursor = cursorFromQuery(query.cursor, filters);
    const rows = await this.repo.listNotifications(
      userId,
      query.status,
      cursor?.k as [string, string] | undefined,
      query.limit,
    );
    return toPage(rows, query.limit, filters, notificationView, {
      keyOf: (r) => [new Date(r.created_at).toISOString(), r.id],
    });
  }

  async preferences(userId: string) {
    return preferencesView(await this.repo.preferences(userId));
  }

  async putPreferences(userId: string, body: PutPreferences) {
    const disabled = Object.entries(body.eventTypes ?? {})
      .filter(([, on]) => on === false)
      .map(([type]) => type)
      .sort();
    return preferencesView(
      await this.repo.putPreferences(userId, disabled, body.quietHours ?? null),
    );
  }
}
