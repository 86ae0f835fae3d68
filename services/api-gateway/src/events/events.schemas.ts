import { z } from 'zod';
import { EVENT_TYPES, type EventType, decodeEventCursor, eventDataSchemas } from '@bible/common';

export const EVENTS_DEFAULT_LIMIT = 100;
export const EVENTS_MAX_LIMIT = 1_000;

export const eventsQuerySchema = z.strictObject({
  after: z
    .string()
    .max(200)
    .refine((s) => decodeEventCursor(s) !== null, 'not a cursor of this feed (use a nextCursor)')
    .optional()
    .describe('A previous nextCursor; omitted: the oldest retained event'),
  types: z
    .string()
    .max(500)
    .transform((s) => s.split(',').map((t) => t.trim()))
    .pipe(z.array(z.enum(EVENT_TYPES)).min(1))
    .optional()
    .describe(`Comma-separated event types to keep: ${EVENT_TYPES.join(', ')}`),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(EVENTS_MAX_LIMIT)
    .default(EVENTS_DEFAULT_LIMIT)
    .describe(`Events per page (1-${EVENTS_MAX_LIMIT})`),
});
export type EventsQuery = z.infer<typeof eventsQuerySchema>;

export const feedEventSchema = z.object({
  id: z.uuid().describe('Stable event id (the webhook-id header of its deliveries)'),
  type: z.enum(EVENT_TYPES),
  timestamp: z.iso.datetime().describe('When the event was recorded (ISO 8601)'),
  data: z.record(z.string(), z.unknown()).describe('As in the webhook of the same type'),
});

export const eventsPageSchema = z.object({
  items: z.array(feedEventSchema),
  nextCursor: z
    .string()
    .nullable()
    .describe('Pass as `after` for the next page; null only when the feed is empty'),
});

/** Standard Webhooks body of an event type, for the OpenAPI `webhooks` section. */
export function webhookPayloadSchema(type: EventType): z.ZodType {
  return z.object({
    type: z.literal(type),
    timestamp: z.iso.datetime().describe('When the event was recorded (ISO 8601)'),
    data: eventDataSchemas[type],
  });
}
