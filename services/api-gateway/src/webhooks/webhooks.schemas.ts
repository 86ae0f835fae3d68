import { z } from 'zod';
import { EVENT_TYPES, WEBHOOK_DELIVERY_STATUSES } from '@bible/common';

export const eventTypeSchema = z.enum(EVENT_TYPES);

const urlSchema = z
  .string()
  .trim()
  .max(2_048)
  .regex(/^https?:\/\/[^\s/?#@]+(?:[/?#]\S*)?$/i, 'must be an absolute http or https URL')
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'must be an absolute http or https URL')
  .meta({
    description:
      'Receiver URL. Its host must resolve to public addresses only (private, loopback, link-local, CGNAT, multicast and cloud metadata addresses are refused unless inside WEBHOOK_ALLOWED_CIDRS).',
    // A literal public address: generated hosts rarely resolve to one, so clients and fuzzers
    // need an accepted value the pattern alone cannot describe.
    examples: ['https://93.184.215.14/hooks/bible'],
  });

const eventTypesSchema = z
  .array(eventTypeSchema)
  .min(1)
  .max(EVENT_TYPES.length)
  .transform((types) => [...new Set(types)])
  .describe('Event types to deliver');

export const createWebhookSchema = z.strictObject({
  url: urlSchema,
  eventTypes: eventTypesSchema,
  description: z.string().trim().max(500).optional(),
});
export type CreateWebhook = z.infer<typeof createWebhookSchema>;

export const updateWebhookSchema = z
  .strictObject({
    url: urlSchema.optional(),
    eventTypes: eventTypesSchema.optional(),
    description: z.string().trim().max(500).nullable().optional(),
    enabled: z
      .boolean()
      .optional()
      .describe(
        'false pauses deliveries; true re-enables a disabled endpoint (and clears its failure run)',
      ),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one field to change')
  .meta({ minProperties: 1 });
export type UpdateWebhook = z.infer<typeof updateWebhookSchema>;

export const webhookParamsSchema = z.strictObject({ id: z.uuid() });
export const deliveryParamsSchema = z.strictObject({ id: z.uuid(), deliveryId: z.uuid() });

const limitSchema = z.coerce.number().int().min(1).max(100).default(20);

export const listWebhooksQuerySchema = z.strictObject({
  cursor: z.string().max(500).optional(),
  limit: limitSchema,
});
export type ListWebhooksQuery = z.infer<typeof listWebhooksQuerySchema>;

export const listDeliveriesQuerySchema = z.strictObject({
  status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
  cursor: z.string().max(500).optional(),
  limit: limitSchema,
});
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuerySchema>;

export const replaySchema = z.strictObject({
  since: z.iso
    .datetime({ offset: true })
    .describe('Redeliver every matching event recorded at or after this time (ISO-8601)'),
});

export const webhookSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  eventTypes: z.array(eventTypeSchema),
  description: z.string().nullable(),
  enabled: z.boolean(),
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
  failingSince: z.string().nullable().describe('Start of the current run of failed attempts'),
  previousSecretExpiresAt: z
    .string()
    .nullable()
    .describe('After a rotation, deliveries are also signed with the previous secret until then'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const createdWebhookSchema = webhookSchema.extend({
  secret: z
    .string()
    .describe('Signing secret (whsec_ + base64 of 32 bytes). Shown only in this response.'),
});

export const rotatedSecretSchema = z.object({
  id: z.uuid(),
  secret: z.string().describe('The new signing secret, shown only in this response'),
  previousSecretExpiresAt: z.string(),
});

export const webhookPageSchema = z.object({
  items: z.array(webhookSchema),
  nextCursor: z.string().nullable(),
});

export const attemptSchema = z.object({
  attempt: z.number().int(),
  attemptedAt: z.string(),
  statusCode: z.number().int().nullable().describe('null when no response arrived'),
  durationMs: z.number().int(),
  error: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
});

export const deliverySchema = z.object({
  id: z.uuid(),
  messageId: z
    .string()
    .describe('The webhook-id header: the event id (the delivery id for webhook.test)'),
  eventId: z.string().nullable(),
  eventType: z.string(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES),
  attempts: z.array(attemptSchema),
  responseStatus: z.number().int().nullable(),
  error: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
});

export const deliveryPageSchema = z.object({
  items: z.array(deliverySchema),
  nextCursor: z.string().nullable(),
});

export const queuedSchema = z.object({
  deliveryId: z.uuid(),
  messageId: z.string(),
  attempt: z.number().int(),
});

export const replayedSchema = z.object({
  queued: z.number().int().describe('Deliveries scheduled'),
  complete: z
    .boolean()
    .describe('false when the limit of one call was reached: call again with the returned `until`'),
  until: z.string().nullable().describe('Time of the last event scheduled'),
});
