import { routeGroup } from '../openapi/registry';
import {
  createWebhookSchema,
  createdWebhookSchema,
  deliveryPageSchema,
  deliveryParamsSchema,
  listDeliveriesQuerySchema,
  listWebhooksQuerySchema,
  queuedSchema,
  replaySchema,
  replayedSchema,
  rotatedSecretSchema,
  updateWebhookSchema,
  webhookPageSchema,
  webhookParamsSchema,
  webhookSchema,
} from './webhooks.schemas';

const route = routeGroup(['webhooks']);
const base = '/v1/admin/webhooks';
const notFound = { 404: 'Unknown subscription' };

route(`POST ${base}`, {
  summary:
    'Subscribe an endpoint to event types. The answer carries the signing secret, shown only here. 400 names body.url when the URL is invalid or its host resolves to a refused address, body.eventTypes.N for an unknown type.',
  auth: 'admin',
  body: createWebhookSchema,
  responses: { 201: ['Subscribed', createdWebhookSchema] },
});
route(`GET ${base}`, {
  summary: 'Subscriptions, oldest first (no secrets)',
  auth: 'admin',
  query: listWebhooksQuerySchema,
  responses: { 200: ['A page of subscriptions', webhookPageSchema] },
});
route(`GET ${base}/{id}`, {
  summary: 'One subscription (no secret)',
  auth: 'admin',
  params: webhookParamsSchema,
  responses: { 200: ['The subscription', webhookSchema], ...notFound },
});
route(`PATCH ${base}/{id}`, {
  summary:
    'Change the URL (checked like at creation), event types, description, or enable/disable the endpoint',
  auth: 'admin',
  params: webhookParamsSchema,
  body: updateWebhookSchema,
  responses: { 200: ['Changed', webhookSchema], ...notFound },
});
route(`DELETE ${base}/{id}`, {
  summary: 'Delete a subscription with its deliveries',
  auth: 'admin',
  params: webhookParamsSchema,
  responses: { 204: 'Deleted', ...notFound },
});
route(`POST ${base}/{id}/rotate-secret`, {
  summary:
    'New signing secret (shown only here). For 24 h deliveries carry two signatures, one per secret, so receivers can switch without losing messages.',
  auth: 'admin',
  params: webhookParamsSchema,
  responses: { 200: ['Rotated', rotatedSecretSchema], ...notFound },
});
route(`GET ${base}/{id}/deliveries`, {
  summary:
    'Deliveries, newest first, each with its attempts (status code, duration, error, next attempt time)',
  auth: 'admin',
  params: webhookParamsSchema,
  query: listDeliveriesQuerySchema,
  responses: { 200: ['A page of deliveries', deliveryPageSchema], ...notFound },
});
route(`POST ${base}/{id}/deliveries/{deliveryId}/retry`, {
  summary: 'Attempt a delivered or failed delivery again now (same webhook-id)',
  auth: 'admin',
  params: deliveryParamsSchema,
  responses: {
    202: ['Attempt queued', queuedSchema],
    404: 'Unknown subscription or delivery',
    409: 'The delivery is pending: an attempt is already scheduled',
  },
});
route(`POST ${base}/{id}/replay`, {
  summary:
    'Redeliver every event of the subscribed types recorded since a time (at most 10,000 per call, oldest first; continue from `until`)',
  auth: 'admin',
  params: webhookParamsSchema,
  body: replaySchema,
  responses: {
    202: ['Deliveries queued', replayedSchema],
    ...notFound,
    409: 'The endpoint is disabled',
  },
});
route(`POST ${base}/{id}/test`, {
  summary: 'Send a signed webhook.test event to the endpoint',
  auth: 'admin',
  params: webhookParamsSchema,
  responses: { 202: ['Test delivery queued', queuedSchema], ...notFound },
});
