import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import {
  deriveKeyId,
  exportPublicKey,
  loadPrivateKey,
  type SigningKey,
} from '@bible/package-format';
import type { BuilderConfig } from '../config';

/**
 * Loads the Ed25519 signing key from config (file or PEM). Without one, packages are unsigned —
 * allowed in development only; production config must provide a key.
 */
export function loadSigningKey(config: BuilderConfig): SigningKey | undefined {
  const pem =
    config.SIGNING_PRIVATE_KEY_PEM ??
    (config.SIGNING_PRIVATE_KEY_FILE
      ? readFileSync(config.SIGNING_PRIVATE_KEY_FILE, 'utf8')
      : undefined);
  if (!pem) {
    if (config.NODE_ENV === 'production') {
      process.stderr.write(
        'package-builder: Invalid configuration:\n  - SIGNING_PRIVATE_KEY_FILE: is required in production (or SIGNING_PRIVATE_KEY_PEM)\n',
      );
      process.exit(1);
    }
    return undefined;
  }
  let privateKey;
  try {
    privateKey = loadPrivateKey(pem);
  } catch (error) {
    process.stderr.write(
      `package-builder: Invalid configuration:\n  - SIGNING_PRIVATE_KEY_FILE: not an Ed25519 private key (${(error as Error).message})\n`,
    );
    process.exit(1);
  }
  return { keyId: config.SIGNING_KEY_ID ?? deriveKeyId(privateKey), privateKey };
}

/** Publishes the key's public half so the gateway can serve it at /v1/packages/keys. */
export async function registerPublicKey(db: DataSource, key: SigningKey): Promise<void> {
  const { createPublicKey } = await import('node:crypto');
  const published = exportPublicKey(createPublicKey(loadPrivateKey(key.privateKey)), key.keyId);
  await db.query(
    `INSERT INTO signing_keys (key_id, public_key, public_key_pem) VALUES ($1, $2, $3)
     ON CONFLICT (key_id) DO UPDATE SET last_used_at = now()
       WHERE signing_keys.public_key = EXCLUDED.public_key`,
    [key.keyId, published.publicKey, published.publicKeyPem],
  );
  const [row] = await db.query<{ public_key: string }[]>(
    `SELECT public_key FROM signing_keys WHERE key_id = $1`,
    [key.keyId],
  );
  if (row.public_key !== published.publicKey) {
    throw new Error(
      `signing key id ${key.keyId} is already registered with a different public key; use a new SIGNING_KEY_ID`,
    );
  }
}
