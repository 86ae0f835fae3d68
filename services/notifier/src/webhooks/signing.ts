import { createHmac } from 'node:crypto';

/*
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the secret's key bytes, sent as `v1,<base64>`; during a secret
 * rotation one signature per valid secret, space-separated. Signed with node:crypto (native, one
 * pass per secret); tests verify with the `standardwebhooks` package, an independent
 * implementation.
 */

export function signature(key: Buffer, id: string, timestamp: number, body: string): string {
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Headers of one delivery attempt; `keys` are the current secret first, then the previous one. */
export function signedHeaders(
  keys: readonly Buffer[],
  id: string,
  timestamp: number,
  body: string,
): SignedHeaders {
  if (keys.length === 0) throw new Error('no signing key');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': keys.map((k) => signature(k, id, timestamp, body)).join(' '),
  };
}
