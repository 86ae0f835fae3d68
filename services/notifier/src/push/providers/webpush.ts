import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { isIP } from 'node:net';
import webpush, { WebPushError } from 'web-push';
import {
  AddressRefusedError,
  type Cidr,
  guardedLookup,
  refusedRange,
  urlHost,
} from '@bible/common/egress/address-guard';
import { parseRetryAfter } from '../../webhooks/schedule';
import { classifyWebPush, networkFailure } from './classify';
import type { PushMessage, PushProvider, PushTarget, SendOutcome } from './provider';

export interface WebPushOptions {
  publicKey: string;
  privateKey: string;
  /** mailto: or https: contact the push service can reach (VAPID `sub`). */
  subject: string;
  /** Same allowlist as webhooks: subscription endpoints are customer-supplied URLs. */
  allowed: readonly Cidr[];
  caFile?: string;
  timeoutMs: number;
}

const header = (headers: Record<string, string | string[] | undefined>, name: string) => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Web Push: VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291) by `web-push`. The
 * endpoint is a URL the browser chose, so every connection resolves its host through the SSRF
 * guard (keep-alive agent with the guarded lookup) and an IP literal is checked here.
 */
export class WebPushProvider implements PushProvider {
  readonly name = 'webpush' as const;
  private readonly agent: Agent;

  constructor(private readonly options: WebPushOptions) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 64,
      lookup: guardedLookup(options.allowed),
      ...(options.caFile && { ca: readFileSync(options.caFile) }),
    });
  }

  async send(target: PushTarget, message: PushMessage): Promise<SendOutcome> {
    if (!target.p256dh || !target.auth)
      return { kind: 'prune', reason: 'web subscription without keys', statusCode: 0 };
    let url: URL;
    try {
      url = new URL(target.token);
    } catch {
      return { kind: 'prune', reason: 'web subscription endpoint is not a URL', statusCode: 0 };
    }
    const host = urlHost(url);
    if (isIP(host)) {
      const range = refusedRange(host, this.options.allowed);
      if (range)
        return {
          kind: 'failed',
          reason: new AddressRefusedError(host, host, range).message,
          statusCode: null,
        };
    }
    const payload = JSON.stringify({
      title: message.title,
      body: message.body,
      data: message.data,
      ...(message.collapseKey && { tag: message.collapseKey }),
    });
    try {
      const res = await webpush.sendNotification(
        { endpoint: target.token, keys: { p256dh: target.p256dh, auth: target.auth } },
        payload,
        {
          vapidDetails: {
            subject: this.options.subject,
            publicKey: this.options.publicKey,
            privateKey: this.options.privateKey,
          },
          TTL: message.ttlSeconds,
          urgency: 'high',
          contentEncoding: 'aes128gcm',
          timeout: this.options.timeoutMs,
          agent: this.agent,
          // Topic (RFC 8030 §5.4, replaces a queued message): at most 32 base64url characters.
          ...(message.collapseKey && { topic: topicOf(message.collapseKey) }),
        },
      );
      return classifyWebPush(res.statusCode, header(res.headers, 'location') ?? null, '', null);
    } catch (error) {
      if (error instanceof WebPushError)
        return classifyWebPush(
          error.statusCode,
          null,
          String(error.body ?? '').slice(0, 200),
          parseRetryAfter(header(error.headers, 'retry-after'), Date.now()),
        );
      return networkFailure('Web Push', error);
    }
  }

  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }
}

export function topicOf(collapseKey: string): string {
  return createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32);
}
