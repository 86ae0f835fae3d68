import type { StoredEvent, WebhookPayload } from './types';

/** The Standard Webhooks body of an event: `{ type, timestamp, data }` (its id travels as `webhook-id`). */
export function toWebhookPayload(
  event: Pick<StoredEvent, 'type' | 'createdAt' | 'data'>,
): WebhookPayload {
  return {
    type: event.type,
    timestamp: new Date(event.createdAt).toISOString(),
    data: event.data,
  };
}
