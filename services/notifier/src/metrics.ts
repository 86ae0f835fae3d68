import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@bible/common';

/** Events fanned out to webhook deliveries (counted once, when dispatched). */
export const eventsTotal = new Counter({
  name: 'bible_events_total',
  help: 'Events dispatched by the notifier, by type.',
  labelNames: ['type'] as const,
  registers: [metricsRegistry],
});

/**
 * Delivery attempts by result: delivered (2xx), retry (failed, another attempt is scheduled),
 * failed (failed, schedule spent), skipped (endpoint disabled: not attempted).
 */
export const webhookDeliveriesTotal = new Counter({
  name: 'bible_webhook_deliveries_total',
  help: 'Webhook delivery attempts by result.',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

/** Event created → delivered (2xx), whatever the number of attempts. */
export const webhookDeliveryLatency = new Histogram({
  name: 'bible_webhook_delivery_latency_seconds',
  help: 'Time from an event being recorded to its successful webhook delivery.',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000, 86400],
  registers: [metricsRegistry],
});

/** One HTTP attempt, request to complete response (or error). */
export const webhookAttemptDuration = new Histogram({
  name: 'bible_webhook_attempt_duration_seconds',
  help: 'Duration of webhook HTTP attempts.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
  registers: [metricsRegistry],
});

export const webhookEndpointsDisabledTotal = new Counter({
  name: 'bible_webhook_endpoints_disabled_total',
  help: 'Webhook endpoints disabled after failing for WEBHOOK_DISABLE_AFTER.',
  registers: [metricsRegistry],
});

/** Device push sends by provider and result: sent, retry, failed, pruned (token deleted). */
export const notificationsTotal = new Counter({
  name: 'bible_notifications_total',
  help: 'Device push notification send attempts by provider and result.',
  labelNames: ['provider', 'result'] as const,
  registers: [metricsRegistry],
});

export const pushSendDuration = new Histogram({
  name: 'bible_push_send_duration_seconds',
  help: 'Duration of one push provider call, request to answer.',
  labelNames: ['provider'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const pushTokensPrunedTotal = new Counter({
  name: 'bible_push_tokens_pruned_total',
  help: 'Device tokens deleted because their provider reported them invalid.',
  labelNames: ['provider'] as const,
  registers: [metricsRegistry],
});

/** Event recorded → notification accepted by the provider (quiet-hours delays included). */
export const pushDeliveryLatency = new Histogram({
  name: 'bible_push_delivery_latency_seconds',
  help: 'Time from an event being recorded to its push notification being accepted by the provider.',
  labelNames: ['provider'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000, 86400],
  registers: [metricsRegistry],
});
