import type { PushPlatform } from '@bible/common';

export type ProviderName = 'fcm' | 'apns' | 'webpush';

export const PROVIDER_OF: Record<PushPlatform, ProviderName> = {
  android: 'fcm',
  ios: 'apns',
  web: 'webpush',
};

export interface PushTarget {
  token: string;
  /** PushSubscription keys (web only). */
  p256dh?: string | null;
  auth?: string | null;
}

export interface PushMessage {
  title: string;
  body: string;
  data: Record<string, string>;
  collapseKey: string | null;
  /** How long the provider keeps an undelivered message. */
  ttlSeconds: number;
}

/**
 * The outcome of one send, classified by status and error code (never message text):
 * sent only on the provider's 2xx; prune deletes the token; retry schedules another attempt.
 */
export type SendOutcome =
  | { kind: 'sent'; messageId: string | null; statusCode: number }
  | {
      kind: 'prune';
      reason: string;
      statusCode: number;
      /** APNs 410: when the token stopped being valid; older than its registration → keep it. */
      invalidSince?: Date;
    }
  | { kind: 'retry'; reason: string; statusCode: number | null; retryAfterMs: number | null }
  | { kind: 'failed'; reason: string; statusCode: number | null };

export interface PushProvider {
  readonly name: ProviderName;
  send(target: PushTarget, message: PushMessage): Promise<SendOutcome>;
  close(): Promise<void>;
}
