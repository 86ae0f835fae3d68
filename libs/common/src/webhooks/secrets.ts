import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseCidrList } from '../egress/address-guard';

/*
 * Webhook signing secrets. The notifier must sign with them again, so they cannot be hashed:
 * they are stored encrypted with AES-256-GCM under WEBHOOK_SECRET_KEY (a 32-byte key given in
 * base64), in the form `v1.<iv>.<tag>.<ciphertext>` (base64url parts). The plain secret is shown
 * to the API caller once and never logged.
 */

const SECRET_PREFIX = 'whsec_';

/** Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key bytes of a `whsec_` secret. */
export function webhookSecretKey(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}

export function encryptSecret(secret: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), data]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** Throws when the ciphertext was not made with this key (or was altered). */
export function decryptSecret(stored: string, key: Buffer): string {
  const [version, iv, tag, data] = stored.split('.');
  if (version !== 'v1' || !iv || !tag || data === undefined)
    throw new Error('webhook secret is not in the v1 encrypted format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([
    decipher.update(Buffer.from(data, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}

/** Config shared by the gateway (registration) and the notifier (delivery). */
export const webhookEnv = {
  /** base64 of 32 bytes: encrypts webhook signing secrets at rest. */
  WEBHOOK_SECRET_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be base64 of exactly 32 bytes')
    .transform((v) => Buffer.from(v, 'base64')),
  /** Private/loopback/link-local ranges webhooks may still call, e.g. `127.0.0.0/8,::1/128`. */
  WEBHOOK_ALLOWED_CIDRS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return parseCidrList(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
};
