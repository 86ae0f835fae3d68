import { routeGroup } from '../openapi/registry';
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

const route = routeGroup(['push']);

route('POST /v1/push-tokens', {
  summary:
    'Register a device for push. ios: APNs token (hex); android: FCM registration token; web: the PushSubscription JSON (its endpoint is checked like a webhook URL; a refusal names body.token.endpoint). The same token again is idempotent (200); a token another account registered moves to the caller (201).',
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
    201: ['Registered (new to the caller)', pushTokenSchema],
    200: ['Already registered by the caller (refreshed)', pushTokenSchema],
  },
});
route('GET /v1/push-tokens', {
  summary: 'The caller’s registered devices',
  auth: 'user',
  responses: { 200: ['Devices, oldest first', pushTokenListSchema] },
});
route('DELETE /v1/push-tokens/{id}', {
  summary: 'Unregister one of the caller’s devices (another user’s token answers 404)',
  auth: 'user',
  params: tokenParamsSchema,
  responses: { 204: 'Deleted', 404: 'No such token of the caller' },
});
route('GET /v1/push/vapid-public-key', {
  summary: 'The VAPID application server key web clients pass to PushManager.subscribe',
  auth: 'none',
  responses: { 200: ['The key', vapidKeySchema], 404: 'Web Push is not configured' },
});
route('GET /v1/notifications', {
  summary:
    'The caller’s push notifications, newest first: status (pending, sent, failed), attempts, last error, provider message id',
  auth: 'user',
  query: listNotificationsQuerySchema,
  responses: { 200: ['A page of notifications', notificationPageSchema] },
});
route('GET /v1/notification-preferences', {
  summary: 'The caller’s push preferences (defaults: every type on, no quiet hours)',
  auth: 'user',
  responses: { 200: ['Preferences', preferencesSchema] },
});
route('PUT /v1/notification-preferences', {
  summary:
    'Replace the caller’s preferences: event types switched off, quiet hours (notifications inside them are delayed to their end, never dropped)',
  auth: 'user',
  body: putPreferencesSchema,
  bodyExample: {
    eventTypes: { 'content.changed': false },
    quietHours: { start: '22:00', end: '07:00', timezone: 'Africa/Nairobi' },
  },
  responses: { 200: ['Saved', preferencesSchema] },
});
