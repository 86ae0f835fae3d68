import { readFileSync } from 'node:fs';
import { JWT } from 'google-auth-library';
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
 */
export class FcmProvider implements PushProvider {
  readonly name = 'fcm' as const;
  private readonly jwt: JWT;
  private readonly url: string;

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
    this.url = `${options.endpoint.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(project)}/messages:send`;
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
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      return networkFailure('FCM', error);
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { error: { message: text.slice(0, 200) } };
    }
    const outcome = classifyFcm(
      res.status,
      parsed,
      parseRetryAfter(res.headers.get('retry-after') ?? undefined, Date.now()),
    );
    // A rejected access token (revoked, clock skew): drop it so the retry signs a new one.
    if (res.status === 401) this.jwt.credentials = {};
    return outcome;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
