import { z } from 'zod';
import { documentRoute } from './registry';

const meSchema = z.object({ id: z.string(), role: z.enum(['user', 'editor', 'admin']) });

documentRoute({
  method: 'get',
  path: '/v1/me',
  summary: "The caller's identity (user id and role) from the bearer token",
  tags: ['auth'],
  responses: { 200: { description: 'The caller', schema: meSchema } },
});

documentRoute({
  method: 'get',
  path: '/health/live',
  summary: 'Liveness (cheap, no dependencies)',
  tags: ['operations'],
  auth: 'none',
  responses: { 200: { description: 'Alive' } },
});

documentRoute({
  method: 'get',
  path: '/health/ready',
  summary: 'Readiness: Postgres, Redis and the object store answer',
  tags: ['operations'],
  auth: 'none',
  responses: {
    200: { description: 'Ready' },
    503: { description: 'A dependency is down or the process is draining' },
  },
});

documentRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics (text exposition format)',
  tags: ['operations'],
  auth: 'none',
  responses: { 200: { description: 'Metrics', schema: z.string(), contentType: 'text/plain' } },
});

documentRoute({
  method: 'get',
  path: '/v1/docs',
  summary: 'Interactive API reference of this document (HTML; assets served by the gateway)',
  tags: ['operations'],
  auth: 'none',
  responses: {
    200: { description: 'The reference page', contentType: 'text/html', schema: z.string() },
  },
});
