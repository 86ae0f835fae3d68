import { EVENT_TYPES, eventDataSchemas } from '@bible/common';
import { documentWebhook, routeGroup } from '../openapi/registry';
import { eventsPageSchema, eventsQuerySchema, webhookPayloadSchema } from './events.schemas';

const route = routeGroup(['admin', 'events']);

route('GET /v1/admin/events', {
  summary: 'Events in order after a cursor, to replay what a consumer missed',
  auth: 'admin or service',
  query: eventsQuerySchema,
  responses: {
    200: [
      'Events in (transaction, sequence) order; the feed never skips an event behind nextCursor',
      eventsPageSchema,
    ],
  },
});

for (const type of EVENT_TYPES) {
  documentWebhook(type, {
    summary: eventDataSchemas[type].description ?? type,
    description:
      'Standard Webhooks delivery: headers webhook-id (the event id, stable across retries), ' +
      'webhook-timestamp and webhook-signature. See docs/events.md.',
    schema: webhookPayloadSchema(type),
  });
}
