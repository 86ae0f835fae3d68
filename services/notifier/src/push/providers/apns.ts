import { readFileSync } from 'node:fs';
import { type ClientHttp2Session, type IncomingHttpHeaders, connect, constants } from 'node:http2';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { parseRetryAfter } from '../../webhooks/schedule';
import { classifyApns, networkFailure } from './classify';
import type { PushMessage, PushProvider, PushTarget, SendOutcome } from './provider';

export interface ApnsOptions {
  /** The .p8 signing key from Apple Developer (Keys). */
  keyFile: string;
  keyId: string;
  teamId: string;
  /** The app's bundle id (apns-topic). */
  topic: string;
  /** https://api.push.apple.com, https://api.sandbox.push.apple.com, or a local fake. */
  host: string;
  /** Extra CA certificates (PEM) to trust, for a fake with a self-signed certificate. */
  caFile?: string;
  timeoutMs: number;
}

/** Apple rejects provider tokens older than 60 min and refreshes more often than every 20. */
const TOKEN_TTL_MS = 50 * 60_000;
const COLLAPSE_ID_MAX_BYTES = 64;

/**
 * APNs over HTTP/2 with token authentication. One HTTP/2 session to the host carries every
 * request concurrently (Apple's guidance: keep it open, multiplex); it is replaced when the
 * server closes it (GOAWAY) or it errors. The ES256 provider token is signed once and reused
 * until TOKEN_TTL_MS, or at once after APNs answers ExpiredProviderToken.
 */
export class ApnsProvider implements PushProvider {
  readonly name = 'apns' as const;
  private readonly key: KeyObject;
  private readonly ca?: Buffer;
  private session?: ClientHttp2Session;
  private jwt?: { value: string; issuedAt: number };
  private signing?: Promise<string>;

  constructor(private readonly options: ApnsOptions) {
    this.key = createPrivateKey(readFileSync(options.keyFile));
    if (options.caFile) this.ca = readFileSync(options.caFile);
  }

  /** The provider token, signed again when older than TOKEN_TTL_MS. */
  async providerToken(now = Date.now()): Promise<string> {
    if (this.jwt && now - this.jwt.issuedAt < TOKEN_TTL_MS) return this.jwt.value;
    this.signing ??= new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.options.keyId })
      .setIssuer(this.options.teamId)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(this.key)
      .then((value) => {
        this.jwt = { value, issuedAt: now };
        return value;
      })
      .finally(() => {
        this.signing = undefined;
      });
    return this.signing;
  }

  private connection(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = connect(this.options.host, { ...(this.ca && { ca: this.ca }) });
    session.on('error', () => undefined);
    session.on('goaway', () => session.close());
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    session.setTimeout(10 * 60_000, () => session.close());
    this.session = session;
    return session;
  }

  async send(target: PushTarget, message: PushMessage): Promise<SendOutcome> {
    const token = await this.providerToken();
    const payload = JSON.stringify({
      aps: {
        alert: { title: message.title, body: message.body },
        sound: 'default',
        'mutable-content': 1,
      },
      ...message.data,
    });
    const headers: Record<string, string> = {
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: `/3/device/${encodeURIComponent(target.token)}`,
      authorization: `bearer ${token}`,
      'apns-topic': this.options.topic,
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-expiration': String(Math.floor(Date.now() / 1000) + message.ttlSeconds),
      'content-type': 'application/json',
    };
    if (message.collapseKey)
      headers['apns-collapse-id'] = Buffer.from(message.collapseKey)
        .subarray(0, COLLAPSE_ID_MAX_BYTES)
        .toString('utf8');
    let answer: { status: number; headers: IncomingHttpHeaders; body: string };
    try {
      answer = await this.request(headers, payload);
    } catch (error) {
      return networkFailure('APNs', error);
    }
    const body = parseBody(answer.body);
    if (body?.reason === 'ExpiredProviderToken' || body?.reason === 'InvalidProviderToken')
      this.jwt = undefined;
    const apnsId = answer.headers['apns-id'];
    const retryAfter = answer.headers['retry-after'];
    return classifyApns(
      answer.status,
      body,
      typeof apnsId === 'string' ? apnsId : null,
      parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined, Date.now()),
    );
  }

  private request(
    headers: Record<string, string>,
    payload: string,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const stream = this.connection().request(headers);
      const timer = setTimeout(
        () => stream.close(constants.NGHTTP2_CANCEL),
        this.options.timeoutMs,
      );
      let status = 0;
      let responseHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        status = Number(h[constants.HTTP2_HEADER_STATUS]);
        responseHeaders = h;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        clearTimeout(timer);
        if (status === 0) reject(new Error('stream ended without a response'));
        else
          resolve({
            status,
            headers: responseHeaders,
            body: Buffer.concat(chunks).toString('utf8'),
          });
      });
      stream.on('close', () => {
        clearTimeout(timer);
        if (status === 0) reject(new Error(`stream closed (code ${stream.rstCode})`));
      });
      stream.on('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.end(payload);
    });
  }

  close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return Promise.resolve();
    return new Promise((resolve) => session.close(() => resolve()));
  }
}

function parseBody(text: string): { reason?: string; timestamp?: number } | null {
  try {
    return text ? (JSON.parse(text) as { reason?: string; timestamp?: number }) : null;
  } catch {
    return null;
  }
}
