import { z } from 'zod';
import { EVENT_TYPES, NOTIFICATION_STATUSES, PUSH_PLATFORMS } from '@bible/common';

const base64urlBytes = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
    .refine(
      (v) => Buffer.from(v, 'base64url').length === bytes,
      `must be ${what} (${bytes} bytes)`,
    );

function isTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timezoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimezone, 'must be an IANA time zone such as Europe/Berlin')
  .describe('IANA time zone, e.g. America/Sao_Paulo');

const deviceFields = {
  deviceId: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe(
      'The app’s device id (the one its sync sessions use): content.changed reaches the devices holding the changed version; a new token for the same device replaces the old one',
    ),
  locale: z
    .string()
    .max(35)
    .regex(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 tag such as es-MX')
    .optional()
    .describe('Language of the notification texts (en, es, fr; others fall back to en)'),
  timezone: timezoneSchema.optional(),
  appVersion: z.string().min(1).max(64).optional(),
};

export const webSubscriptionSchema = z
  .strictObject({
    endpoint: z
      .string()
      .max(2_048)
      .regex(/^https:\/\/[^\s/?#@]+(?:[/?#]\S*)?$/i, 'must be an absolute https URL')
      .refine((v) => URL.canParse(v), 'must be an absolute https URL')
      .describe(
        'Push service URL. Its host must resolve to public addresses (the webhook SSRF rules and allowlist apply).',
      ),
    expirationTime: z.number().nullable().optional(),
    keys: z.strictObject({
      p256dh: base64urlBytes(65, 'an uncompressed P-256 public key').describe(
        'The browser’s ECDH public key (base64url)',
      ),
      auth: base64urlBytes(16, 'the auth secret').describe('Authentication secret (base64url)'),
    }),
  })
  .describe('The browser’s PushSubscription as PushSubscription.toJSON() gives it');

export const registerTokenSchema = z.discriminatedUnion('platform', [
  z.strictObject({
    platform: z.literal('ios'),
    token: z
      .string()
      .regex(/^[0-9a-fA-F]{64,200}$/, 'must be the APNs device token in hex')
      .describe('APNs device token (hex)'),
    ...deviceFields,
  }),
  z.strictObject({
    platform: z.literal('android'),
    token: z
      .string()
      .min(20)
      .max(4_096)
      .regex(/^[A-Za-z0-9_:.-]+$/, 'must be an FCM registration token')
      .describe('FCM registration token'),
    ...deviceFields,
  }),
  z.strictObject({ platform: z.literal('web'), token: webSubscriptionSchema, ...deviceFields }),
]);
export type RegisterToken = z.infer<typeof registerTokenSchema>;

export const tokenParamsSchema = z.strictObject({ id: z.uuid() });

export const pushTokenSchema = z.object({
  id: z.uuid(),
  platform: z.enum(PUSH_PLATFORMS),
  token: z.string().describe('The device token; for web, the subscription endpoint'),
  deviceId: z.string().nullable(),
  locale: z.string().nullable(),
  timezone: z.string().nullable(),
  appVersion: z.string().nullable(),
  createdAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime(),
});
export const pushTokenListSchema = z.object({ items: z.array(pushTokenSchema) });

export const vapidKeySchema = z.object({
  publicKey: z
    .string()
    .describe(
      'VAPID application server key (base64url): PushManager.subscribe applicationServerKey',
    ),
});

export const listNotificationsQuerySchema = z.strictObject({
  status: z.enum(NOTIFICATION_STATUSES).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuerySchema>;

export const notificationSchema = z.object({
  id: z.uuid(),
  type: z.string(),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
  status: z.enum(NOTIFICATION_STATUSES),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  provider: z.enum(['fcm', 'apns', 'webpush']).nullable(),
  providerMessageId: z.string().nullable(),
  pushTokenId: z.uuid().nullable().describe('null once the device token was deleted or pruned'),
  eventId: z.uuid().nullable(),
  notBefore: z.iso.datetime().nullable().describe('Delayed by quiet hours until then'),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime().nullable(),
});
export const notificationPageSchema = z.object({
  items: z.array(notificationSchema),
  nextCursor: z.string().nullable(),
});

const timeSchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?$/, 'must be HH:MM or HH:MM:SS (24 h)');

export const quietHoursSchema = z
  .strictObject({ start: timeSchema, end: timeSchema, timezone: timezoneSchema })
  .describe(
    'Daily window [start, end) in the zone; start after end spans midnight. Notifications inside are delayed to its end, never dropped.',
  );

const eventTypesShape = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, z.boolean().optional()]),
) as Record<(typeof EVENT_TYPES)[number], z.ZodOptional<z.ZodBoolean>>;

export const putPreferencesSchema = z.strictObject({
  eventTypes: z
    .strictObject(eventTypesShape)
    .optional()
    .describe('false switches an event type off; absent types are on'),
  quietHours: quietHoursSchema.nullable().optional().describe('null or absent: no quiet hours'),
});
export type PutPreferences = z.infer<typeof putPreferencesSchema>;

export const preferencesSchema = z.object({
  eventTypes: z.object(
    Object.fromEntries(EVENT_TYPES.map((t) => [t, z.boolean()])) as Record<
      (typeof EVENT_TYPES)[number],
      z.ZodBoolean
    >,
  ),
  quietHours: quietHoursSchema.nullable(),
  updatedAt: z.iso.datetime().nullable(),
});
