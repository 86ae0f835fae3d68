import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process, with Node defaults and HTTP server metrics. */
export const metricsRegistry = new Registry();
let initialised = false;

export function initMetrics(service: string): Registry {
  if (initialised) return metricsRegistry;
  initialised = true;
  metricsRegistry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: metricsRegistry });
  return metricsRegistry;
}

export const httpRequestsTotal = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests handled, by method, route template and status code.',
  labelNames: ['method', 'route', 'status_code'] as const,
  registers: [metricsRegistry],
});

export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request latency, by method, route template and status code.',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});
