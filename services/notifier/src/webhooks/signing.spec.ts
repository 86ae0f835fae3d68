import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  decryptSecret,
  encryptSecret,
  generateWebhookSecret,
  webhookSecretKey,
} from '@bible/common/webhooks/secrets';
import { signature, signedHeaders } from './signing';

const body = JSON.stringify({
  type: 'package.ready',
  timestamp: '2026-12-01T23:40:00.000Z',
  data: { packageId: 'web-text-1', sizeBytes: 12345 },
});

describe('webhook signing', () => {
  it('matches the Standard Webhooks specification example', () => {
    // Example from the specification (and the standardwebhooks test suite).
    const key = webhookSecretKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    assert.equal(
      signature(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('our headers verify with the standardwebhooks package', () => {
    const secret = generateWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const now = Math.floor(Date.now() / 1000);
    const headers = signedHeaders(
      [webhookSecretKey(secret)],
      'e6d4f7c2-5b8e-4d8f-9c55-0c5c8c2e9a11',
      now,
      body,
    );
    assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body));
    // A changed body, id or timestamp no longer verifies.
    assert.throws(() => new Webhook(secret).verify(body + ' ', { ...headers }));
    assert.throws(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'other' }));
    assert.throws(() =>
      new Webhook(secret).verify(body, { ...headers, 'webhook-timestamp': String(now - 1) }),
    );
    assert.throws(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers }));
  });

  it('during rotation carries one signature per secret; each verifies alone', () => {
    const current = generateWebhookSecret();
    const previous = generateWebhookSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = signedHeaders(
      [webhookSecretKey(current), webhookSecretKey(previous)],
      'msg-1',
      now,
      body,
    );
    const parts = headers['webhook-signature'].split(' ');
    assert.equal(parts.length, 2);
    assert.ok(parts.every((p) => p.startsWith('v1,')));
    for (const secret of [current, previous])
      assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body));
    assert.throws(() => signedHeaders([], 'msg-1', now, body), /no signing key/);
  });

  it('secrets are encrypted at rest with AES-256-GCM and only the right key opens them', () => {
    const key = randomBytes(32);
    const secret = generateWebhookSecret();
    const stored = encryptSecret(secret, key);
    assert.match(stored, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(!stored.includes(secret.slice(6, 20)));
    assert.notEqual(encryptSecret(secret, key), stored, 'a fresh IV each time');
    assert.equal(decryptSecret(stored, key), secret);
    assert.throws(() => decryptSecret(stored, randomBytes(32)));
    const [v, iv, tag, data] = stored.split('.');
    const flipped = Buffer.from(data, 'base64url');
    flipped[0] ^= 1;
    assert.throws(() => decryptSecret([v, iv, tag, flipped.toString('base64url')].join('.'), key));
  });
});
