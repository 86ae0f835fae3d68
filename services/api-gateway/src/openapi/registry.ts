import { sample } from 'openapi-sampler';
import { z } from 'zod';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head';

export interface RouteDoc {
  method: Method;
  /** OpenAPI path template, e.g. `/v1/packages/{packageId}`. */
  path: string;
  summary: string;
  tags: string[];
  /** Who may call it; `admin or service` also admits internal services' machine tokens. */
  auth?: 'none' | 'user' | 'editor' | 'admin' | 'admin or service';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Media types the body may be sent as (default application/json); each gets the same schema. */
  bodyContentType?: string | string[];
  /**
   * A JSON body's example, for bodies whose sampled example the schema refuses (patterns,
   * cross-field rules); checked against `body` when the document is built. A raw body's is a
   * sentence saying what the bytes are.
   */
  bodyExample?: unknown;
  responses: Record<number, ResponseSpec>;
}

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
  headers?: Record<string, string>;
}

/**
 * A response: its description alone (an error answer then carries the error envelope), its
 * description and JSON body schema, or in full.
 */
export type ResponseSpec = string | [description: string, schema: z.ZodType] | ResponseDoc;

function responseDoc(spec: ResponseSpec): ResponseDoc {
  if (typeof spec === 'string') return { description: spec };
  if (Array.isArray(spec)) return { description: spec[0], schema: spec[1] };
  return spec;
}

/**
 * Routes describe themselves with the same zod schemas that validate their input, so the OpenAPI
 * document cannot drift from what the gateway enforces.
 */
const routes: RouteDoc[] = [];

export function documentRoute(route: RouteDoc): void {
  routes.push(route);
}

type RouteFields = Omit<RouteDoc, 'method' | 'path' | 'tags'> & { tags?: string[] };

/**
 * documentRoute for a group of routes sharing their tags (a route may name its own): the route
 * is `METHOD /path`, e.g. `route('GET /v1/media-files/{id}', { summary, params, responses })`.
 */
export function routeGroup(
  tags: string[],
): (route: `${Uppercase<Method>} ${string}`, fields: RouteFields) => void {
  return (route, fields) => {
    const [method, path] = route.split(' ') as [Uppercase<Method>, string];
    documentRoute({ method: method.toLowerCase() as Method, path, tags, ...fields });
  };
}

export function documentedRoutes(): readonly RouteDoc[] {
  return routes;
}

export interface WebhookDoc {
  summary: string;
  description?: string;
  /** The request body the receiver gets. */
  schema: z.ZodType;
}

/** Requests the platform sends (OpenAPI 3.1 `webhooks`), keyed by event type. */
const webhooks = new Map<string, WebhookDoc>();

export function documentWebhook(name: string, doc: WebhookDoc): void {
  webhooks.set(name, doc);
}

const errorSchema = z.object({
  error: z.string().describe('Stable error code, e.g. VALIDATION_FAILED'),
  message: z.string(),
  details: z.array(
    z.object({ field: z.string(), message: z.string(), code: z.string().optional() }),
  ),
  requestId: z.string(),
  timestamp: z.string(),
});

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const errorComponents = { components: { schemas: { Error: jsonSchema(errorSchema, 'output') } } };

/**
 * An example generated from a body's JSON Schema (openapi-sampler), so the reference shows one
 * for every body. A request example is kept only if the body's own zod schema accepts it (a
 * sampled string cannot satisfy every pattern), so no example documents an invalid request.
 */
function example(schema: Record<string, unknown>, validate?: z.ZodType): { example?: unknown } {
  let value: unknown;
  try {
    value = sample(schema, { skipReadOnly: true, quiet: true }, errorComponents);
  } catch {
    return {};
  }
  if (value === undefined || (validate && !validate.safeParse(value).success)) return {};
  return { example: value };
}

function bodyExample(
  route: RouteDoc,
  type: string,
  schema: Record<string, unknown>,
): Record<string, unknown> {
  if (!type.includes('json')) {
    // A sampled string is not an example of bytes: raw bodies get a described example.
    if (route.bodyExample === undefined) return {};
    if (typeof route.bodyExample !== 'string') {
      throw new Error(
        `${route.method.toUpperCase()} ${route.path}: a raw body's example is a sentence`,
      );
    }
    return { examples: { body: { summary: route.bodyExample } } };
  }
  if (route.bodyExample === undefined) return example(schema, route.body);
  const checked = (route.body as z.ZodType).safeParse(route.bodyExample);
  if (!checked.success) {
    throw new Error(
      `${route.method.toUpperCase()} ${route.path}: bodyExample is invalid: ${checked.error.message}`,
    );
  }
  return { example: route.bodyExample };
}

function parameters(where: 'path' | 'query', schema?: z.ZodObject): unknown[] {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input') as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: prop,
  }));
}

export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      const r = responseDoc(spec);
      responses[status] = {
        description: r.description,
        ...(r.headers && {
          headers: Object.fromEntries(
            Object.entries(r.headers).map(([h, d]) => [
              h,
              { description: d, schema: { type: 'string' } },
            ]),
          ),
        }),
        ...(r.schema && {
          content: {
            [r.contentType ?? 'application/json']: {
              schema: jsonSchema(r.schema, 'output'),
              ...example(jsonSchema(r.schema, 'output')),
            },
          },
        }),
        // Error answers described in a word still carry the error envelope.
        ...(!r.schema &&
          Number(status) >= 400 && {
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/Error' },
                ...example({ $ref: '#/components/schemas/Error' }),
              },
            },
          }),
      };
    }
    for (const status of route.auth === 'none' ? ['400', '429'] : ['400', '401', '403', '429']) {
      responses[status] ??= {
        description: 'Error',
        content: {
          'application/json': {
            schema: { $ref: '#/components/schemas/Error' },
            ...example({ $ref: '#/components/schemas/Error' }),
          },
        },
      };
    }
    // Any operation may meet an outage of Postgres, Redis or the object store.
    responses['503'] ??= {
      description: 'A dependency is unavailable; retry after Retry-After seconds',
      headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'string' } } },
      content: {
        'application/json': {
          schema: { $ref: '#/components/schemas/Error' },
          ...example({ $ref: '#/components/schemas/Error' }),
        },
      },
    };
    paths[route.path] ??= {};
    paths[route.path][route.method] = {
      summary: route.summary,
      tags: route.tags,
      operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(route.auth === 'none' ? { security: [] } : {}),
      ...(route.auth && route.auth !== 'none' && route.auth !== 'user'
        ? { 'x-required-role': route.auth }
        : {}),
      parameters: [...parameters('path', route.params), ...parameters('query', route.query)],
      ...(route.body && {
        requestBody: {
          required: true,
          content: Object.fromEntries(
            [route.bodyContentType ?? 'application/json'].flat().map((type) => {
              const schema = jsonSchema(route.body as z.ZodType, 'input');
              return [type, { schema, ...bodyExample(route, type, schema) }];
            }),
          ),
        },
      }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Offline Bible package platform API',
      version,
      description:
        'Public HTTP contract of the api-gateway. See docs/http-api.md and the reference at /v1/docs.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: jsonSchema(errorSchema, 'output') },
    },
    paths,
    webhooks: Object.fromEntries(
      [...webhooks].map(([name, doc]) => [
        name,
        {
          post: {
            summary: doc.summary,
            ...(doc.description && { description: doc.description }),
            operationId: `webhook${name.replace(/(^|[^A-Za-z0-9]+)(.)/g, (_, _s, c: string) => c.toUpperCase())}`,
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(doc.schema, 'output') } },
            },
            responses: { '2XX': { description: 'Received; any other answer is retried' } },
          },
        },
      ]),
    ),
  };
}
