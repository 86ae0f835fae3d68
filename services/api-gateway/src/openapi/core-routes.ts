import { z } from 'zod';
import { routeGroup } from './registry';

const route = routeGroup(['operations']);

const meSchema = z.object({ id: z.string(), role: z.enum(['user', 'editor', 'admin']) });

route('GET /v1/me', {
  summary: "The caller's identity (user id and role) from the bearer token",
  tags: ['auth'],
  responses: { 200: ['The caller', meSchema] },
});

route('GET /health/live', {
  summary: 'Liveness (cheap, no dependencies)',
  auth: 'none',
  responses: { 200: 'Alive' },
});

route('GET /health/ready', {
  summary: 'Readiness: Postgres, Redis and the object store answer',
  auth: 'none',
  responses: { 200: 'Ready', 503: 'A dependency is down or the process is draining' },
});

route('GET /metrics', {
  summary: 'Prometheus metrics (text exposition format)',
  auth: 'none',
  responses: { 200: { description: 'Metrics', schema: z.string(), contentType: 'text/plain' } },
});

route('GET /v1/docs', {
  summary: 'Interactive API reference of this document (HTML; assets served by the gateway)',
  auth: 'none',
  responses: {
    200: { description: 'The reference page', contentType: 'text/html', schema: z.string() },
  },
});
