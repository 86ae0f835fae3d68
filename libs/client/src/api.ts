// The typed HTTP client: openapi-fetch over the types `npm run client:generate` derives from the
// gateway's OpenAPI document, so every path, parameter and body below is checked by tsc against
// what the gateway really accepts and answers.
import createClient, { type Client } from 'openapi-fetch';
import type { operations, paths } from './api.generated';

export type { operations, paths } from './api.generated';
export type ApiClient = Client<paths>;

/** The JSON body an operation answers with a given status, e.g. `ResponseBody<'getV1SyncChanges'>`. */
export type ResponseBody<
  Op extends keyof operations,
  Status extends keyof operations[Op]['responses'] = 200 & keyof operations[Op]['responses'],
> = operations[Op]['responses'][Status] extends { content: { 'application/json': infer B } }
  ? B
  : never;

/** The JSON request body of an operation, e.g. `RequestBody<'postV1SyncPush'>`. */
export type RequestBody<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type Change = ResponseBody<'getV1SyncChanges'>['changes'][number];
/** One mutation of a push (the schema's anyOf also admits partial shapes; this is the full one). */
export type Mutation = Extract<
  RequestBody<'postV1SyncPush'>['mutations'][number],
  { mutationId: string }
>;
export type MutationResult = ResponseBody<'postV1SyncPush'>['results'][number];
export type PackageRequest = RequestBody<'postV1Packages'>;
export type JobStatus = ResponseBody<'getV1PackagesJobsJobId'>;
export type PublishedKey = ResponseBody<'getV1PackagesKeys'>['keys'][number];

export interface ApiOptions {
  /** The gateway, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** A bearer JWT; omitted for public routes (keys, health). */
  token?: string;
  fetch?: (input: Request) => Promise<Response>;
}

export function createApiClient(options: ApiOptions): ApiClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ''),
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    ...(options.fetch && { fetch: options.fetch }),
  });
}

/** A non-2xx answer, with the gateway's error envelope (`error`, `message`, `details`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    const envelope = body as { error?: string; message?: string } | undefined;
    super(
      `${what} answered ${status}${envelope?.error ? ` ${envelope.error}: ${envelope.message}` : ''}`,
    );
  }

  /** The stable error code, e.g. `SYNC_CURSOR_INVALID`. */
  get code(): string | undefined {
    return (this.body as { error?: string } | undefined)?.error;
  }
}

/**
 * The data of an openapi-fetch result, or an ApiError. Use it where any failure is an error;
 * look at `response.status` yourself where a status is an answer (202, 304, 409 ...).
 */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (!result.response.ok || result.data === undefined)
    throw new ApiError(result.response.status, result.error, what);
  return result.data;
}
