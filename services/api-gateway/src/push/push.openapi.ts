import { documentRoute } from '../openapi/registry';
import {
  listNotificationsQuerySchema,
  notificationPageSchema,
  preferencesSchema,
  pushTokenListSchema,
  pushTokenSchema,
  putPreferencesSchema,
  registerTokenSchema,
  tokenParamsSchema,
  vapidKeySchema,
} from './push.schemas';

const tags = ['push'];

documentRoute({
  method: 'post',
  path: '/v1/push-tokens',
  summary:
    'Register a device for push. ios: APNs token (hex); android: FCM registration token; web: the PushSubscription JSON (its endpoint is checked like a webhook URL; a refusal names body.token.endpoint). The same token again is idempotent (200); a token another account registered moves to the caller (201).',
  tags,
  auth: 'user',
  body: registerTokenSchema,
  bodyExample: {
    platform: 'android',
    token: 'dVq3-eXampleFcmRegistrationToken:APA91bH-example',
    deviceId: 'pixel-7-5f2c',
    locale: 'es-MX',
    timezone: 'America/Mexico_City',
    appVersion: '2.4.0',
  },
  responses: {
    201: { description: 'Registered (new to the caller)', schema: pushTokenSchema },
    200: { description: 'Already registered by the caller (refreshed)', schema: pushTokenSchema },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/push-tokens',
  summary: 'The caller’s registered devices',
  tags,
  auth: 'user',
  responses: { 200: { description: 'Devices, oldest first', schema: pushTokenListSchema } },
});
documentRoute({
  method: 'delete',
  path: '/v1/push-tokens/{id}',
  summary: 'Unregister one of the caller’s devices (another user’s token answers 404)',
  tags,
  auth: 'user',
  params: tokenParamsSchema,
  responses: {
    204: { description: 'Deleted' },
    404: { description: 'No such token of the caller' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/push/vapid-public-key',
  summary: 'The VAPID application server key web clients pass to PushManager.subscribe',
  tags,
  auth: 'none',
  responses: {
    200: { description: 'The key', schema: vapidKeySchema },
    404: { description: 'Web Push is not configured' },
  },
});
documentRoute({
  method: 'get',
  path: '/v1/notifications',
  summary:
    'The caller’s push notifications, newest first: status (pending, sent, failed), attempts, last error, provider message id',
  tags,
  auth: 'user',
  query: listNotificationsQuerySchema,
  responses: { 200: { description: 'A page of notifications', schema: notificationPageSchema } },
});
documentRoute({
  method: 'get',
  path: '/v1/notification-preferences',
  summary: 'The caller’s push preferences (defaults: every type on, no quiet hours)',
  tags,
  auth: 'user',
  responses: { 200: { description: 'Preferences', schema: preferencesSchema } },
});
documentRoute({
  method: 'put',
  path: '/v1/notification-preferences',
  summary:
    'Replace the caller’s preferences: event types switched off, quiet hours (notifications inside them are delayed to their end, never dropped)',
  tags,
  auth: 'user',
  body: putPreferencesSchema,
  bodyExample: {
    eventTypes: { 'content.changed': false },
    quietHours: { start: '22:00', end: '07:00', timezone: 'Africa/Nairobi' },
  },
  responses: { 200: { description: 'Saved', schema: preferencesSchema } },
});
