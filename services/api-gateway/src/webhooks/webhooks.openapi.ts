import { documentRoute } from '../openapi/registry';
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

const tags = ['webhooks'];
const base = '/v1/admin/webhooks';
const notFound = { 404: { description: 'Unknown subscription' } };

documentRoute({
  method: 'post',
  path: base,
  summary:
    'Subscribe an endpoint to event types. The answer carries the signing secret, shown only here. 400 names body.url when the URL is invalid or its host resolves to a refused address, body.eventTypes.N for an unknown type.',
  tags,
  auth: 'admin',
  body: createWebhookSchema,
  responses: { 201: { description: 'Subscribed', schema: createdWebhookSchema } },
});
documentRoute({
  method: 'get',
  path: base,
  summary: 'Subscriptions, oldest first (no secrets)',
  tags,
  auth: 'admin',
  query: listWebhooksQuerySchema,
  responses: { 200: { description: 'A page of subscriptions', schema: webhookPageSchema } },
});
documentRoute({
  method: 'get',
  path: `${base}/{id}`,
  summary: 'One subscription (no secret)',
  tags,
  auth: 'admin',
  params: webhookParamsSchema,
  responses: { 200: { description: 'The subscription', schema: webhookSchema }, ...notFound },
});
documentRoute({
  method: 'patch',
  path: `${base}/{id}`,
  summary:
    'Change the URL (checked like at creation), event types, description, or enable/disable the endpoint',
  tags,
  auth: 'admin',
  params: webhookParamsSchema,
  body: updateWebhookSchema,
  responses: { 200: { description: 'Changed', schema: webhookSchema }, ...notFound },
});
documentRoute({
  method: 'delete',
  path: `${base}/{id}`,
  summary: 'Delete a subscription with its deliveries',
  tags,
  auth: 'admin',
  params: webhookParamsSchema,
  responses: { 204: { description: 'Deleted' }, ...notFound },
});
documentRoute({
  method: 'post',
  path: `${base}/{id}/rotate-secret`,
  summary:
    'New signing secret (shown only here). For 24 h deliveries carry two signatures, one per secret, so receivers can switch without losing messages.',
  tags,
  auth: 'admin',
  params: webhookParamsSchema,
  responses: { 200: { description: 'Rotated', schema: rotatedSecretSchema }, ...notFound },
});
documentRoute({
  method: 'get',
  path: `${base}/{id}/deliveries`,
  summary:
    'Deliveries, newest first, each with its attempts (status code, duration, error, next attempt time)',
  tags,
  auth: 'admin',
  params: webhookParamsSchema,
  query: listDeliveriesQuerySchema,
  responses: {
    200: { description: 'A page of deliveries', schema: deliveryPageSchema },
    ...notFound,
  },
});
documentRoute({
  method: 'post',
  path: `${base}/{id}/deliveries/{deliveryId}/retry`,
  summary: 'Attempt a delivered or failed delivery again now (same webhook-id)',
  tags,
  auth: 'admin',
  params: deliveryParamsSchema,
  responses: {
    202: { description: 'Attempt queued', schema: queuedSchema },
    404: { description: 'Unknown subscription or delivery' },
    409: { description: 'The delivery is pending: an attempt is already scheduled' },
  },
});
documentRoute({
  method: 'post',
  path: `${base}/{id}/replay`,
  summary:
    'Redeliver every event of the subscribed types recorded since a time (at most 10,000 per call, oldest first; continue from `until`)',
  tags,
  auth: 'admin',
  params: webhookParamsSchema,
  body: replaySchema,
  responses: {
    202: { description: 'Deliveries queued', schema: replayedSchema },
    ...notFound,
    409: { description: 'The endpoint is disabled' },
  },
});
documentRoute({
  method: 'post',
  path: `${base}/{id}/test`,
  summary: 'Send a signed webhook.test event to the endpoint',
  tags,
  auth: 'admin',
  params: webhookParamsSchema,
  responses: { 202: { description: 'Test delivery queued', schema: queuedSchema }, ...notFound },
});
