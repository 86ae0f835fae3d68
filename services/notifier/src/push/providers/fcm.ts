import { readFileSync } from 'node:fs';
import { JWT } from 'google-auth-library';
import { Pool } from 'undici';
import { parseRetryAfter } from '../../webhooks/schedule';
import { classifyFcm, networkFailure } from './classify';
import type { PushMessage, PushProvider, PushTarget, SendOutcome } from './provider';

const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FcmOptions {
  /** Path of the service-account JSON downloaded from the Firebase console. */
  serviceAccountFile: string;
  /** Defaults to the service account's project_id. */
  projectId?: string;
  endpoint: string;
  /** OAuth2 token endpoint; defaults to the service account's token_uri. */
  tokenUri?: string;
  timeoutMs: number;
  /** Keep-alive connections to the endpoint (one send in flight on each). */
  connections: number;
}

interface ServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

/**
 * FCM HTTP v1: `POST {endpoint}/v1/projects/{project}/messages:send` with an OAuth2 access token
 * that google-auth-library gets from the service account's signed JWT assertion and caches until
 * shortly before it expires. The library always posts the assertion to Google's token URL; a
 * request interceptor sends it to the configured token URI instead (the local fake, a proxy).
 * Sends go through an undici Pool's `request`, not `fetch`: fetch's web streams and per-request
 * objects were a third of the notifier's CPU per send (docs/benchmarks.md, device push).
 */
export class FcmProvider implements PushProvider {
  readonly name = 'fcm' as const;
  private readonly jwt: JWT;
  private readonly pool: Pool;
  private readonly path: string;

  constructor(private readonly options: FcmOptions) {
    const account = JSON.parse(readFileSync(options.serviceAccountFile, 'utf8')) as ServiceAccount;
    if (!account.client_email || !account.private_key)
      throw new Error(
        `${options.serviceAccountFile}: not a service-account key (client_email, private_key)`,
      );
    const project = options.projectId ?? account.project_id;
    if (!project) throw new Error('FCM project id: set FCM_PROJECT_ID or project_id in the key');
    this.jwt = new JWT({
      email: account.client_email,
      key: account.private_key,
      keyId: account.private_key_id,
      scopes: [SCOPE],
    });
    const tokenUri = options.tokenUri ?? account.token_uri ?? GOOGLE_TOKEN_URL;
    if (tokenUri !== GOOGLE_TOKEN_URL)
      this.jwt.transporter.interceptors.request.add({
        resolved: (config) => {
          if (String(config.url) === GOOGLE_TOKEN_URL) config.url = new URL(tokenUri);
          return Promise.resolve(config);
        },
      });
    const endpoint = new URL(options.endpoint);
    this.path = `${endpoint.pathname.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(project)}/messages:send`;
    this.pool = new Pool(endpoint.origin, {
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async send(target: PushTarget, message: PushMessage): Promise<SendOutcome> {
    let token: string | null | undefined;
    try {
      token = (await this.jwt.getAccessToken()).token;
    } catch (error) {
      return networkFailure('FCM OAuth2', error);
    }
    if (!token)
      return {
        kind: 'retry',
        reason: 'FCM OAuth2: no access token',
        statusCode: null,
        retryAfterMs: null,
      };
    const body = {
      message: {
        token: target.token,
        notification: { title: message.title, body: message.body },
        data: message.data,
        android: {
          priority: 'high',
          ttl: `${message.ttlSeconds}s`,
          ...(message.collapseKey && { collapse_key: message.collapseKey }),
        },
      },
    };
    let status: number;
    let text: string;
    let retryAfter: string | undefined;
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = res.statusCode;
      const header = res.headers['retry-after'];
      retryAfter = Array.isArray(header) ? header[0] : header;
      text = await res.body.text().catch(() => '');
    } catch (error) {
      return networkFailure('FCM', error);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { error: { message: text.slice(0, 200) } };
    }
    const outcome = classifyFcm(status, parsed, parseRetryAfter(retryAfter, Date.now()));
    // A rejected access token (revoked, clock skew): drop it so the retry signs a new one.
    if (status === 401) this.jwt.credentials = {};
    return outcome;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
