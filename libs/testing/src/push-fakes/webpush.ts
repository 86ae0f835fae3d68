import {
  type KeyObject,
  createDecipheriv,
  createECDH,
  createHmac,
  createPublicKey,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import { type FakeBehaviour, type FakeRequest, behaviourStatus, readBody } from './common';
import { type TlsMaterial, selfSignedCertificate } from '../tls';

/** A browser-side subscription: what PushManager.subscribe() gives, plus its private key. */
export interface BrowserSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** Only the "browser" has it: the fake decrypts with it. */
  privateKey: Buffer;
  id: string;
}

export interface FakeWebPush {
  /** Origin of the endpoints (loopback: the allowlist must include 127.0.0.0/8). */
  url: string;
  /** WEBPUSH_CA_FILE */
  caFile: string;
  /** A new subscription on this push service, with keys generated as a browser does. */
  subscribe(): BrowserSubscription;
  /** Requests with the decrypted payload (`token` is the subscription endpoint). */
  requests: FakeRequest[];
  behave(endpoint: string, behaviour: FakeBehaviour | undefined): void;
  close(): Promise<void>;
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/**
 * RFC 8291 decryption of an aes128gcm body (RFC 8188 header: salt, record size, sender key)
 * with the user agent's ECDH private key and auth secret. Throws on any mismatch.
 */
export function decryptWebPush(
  body: Buffer,
  subscription: { privateKey: Buffer; p256dh: Buffer; auth: Buffer },
): Buffer {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20];
  const senderKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  if (idLength !== 65 || recordSize < 18 || ciphertext.length > recordSize)
    throw new Error('not a single-record aes128gcm body with a P-256 key id');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(subscription.privateKey);
  const shared = ecdh.computeSecret(senderKey);
  const prkKey = hmac(subscription.auth, shared);
  const keyInfo = Buffer.concat([
    Buffer.from('WebPush: info\0'),
    subscription.p256dh,
    senderKey,
    Buffer.from([1]),
  ]);
  const ikm = hmac(prkKey, keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([
    decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
    decipher.final(),
  ]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('missing last-record padding delimiter');
  return padded.subarray(0, end);
}

/** The VAPID public key (uncompressed P-256 point, base64url) as a KeyObject. */
function vapidKey(k: string): KeyObject {
  const point = Buffer.from(k, 'base64url');
  if (point.length !== 65 || point[0] !== 4)
    throw new Error('k is not an uncompressed P-256 point');
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}

/**
 * A fake push service (RFC 8030) over HTTPS: checks the VAPID authorization (RFC 8292: ES256
 * JWT, aud = this origin, exp within 24 h, sub mailto:/https:), TTL and Content-Encoding
 * aes128gcm, decrypts the payload with the subscription's private key (RFC 8291) and answers 201
 * with a Location; 410 for an unsubscribed endpoint; 429 + Retry-After when told.
 */
export async function startFakeWebPush(
  options: { vapidPublicKey?: string; port?: number; tls?: TlsMaterial } = {},
): Promise<FakeWebPush> {
  const tls = options.tls ?? selfSignedCertificate();
  const subscriptions = new Map<string, BrowserSubscription>();
  const behaviours = new Map<string, FakeBehaviour>();
  const counts = new Map<string, number>();
  let origin = '';

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const endpoint = `${origin}${req.url ?? ''}`;
    const sub = subscriptions.get(endpoint);
    const record = (status: number, payload: Record<string, unknown> | null, error?: string) =>
      fake.requests.push({
        token: endpoint,
        status,
        headers: req.headers,
        payload,
        at: Date.now(),
        ...(error && { error }),
      });
    const refuse = (status: number, error: string) => {
      record(status, null, error);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(error);
    };
    if (req.method !== 'POST') return refuse(405, 'POST only');
    if (!sub) return refuse(404, 'no such subscription');
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(req.headers.authorization ?? '');
    if (!auth) return refuse(401, 'missing VAPID authorization');
    if (options.vapidPublicKey && auth[2] !== options.vapidPublicKey)
      return refuse(403, 'VAPID key differs from the subscription key');
    try {
      const { payload } = await jwtVerify(auth[1], vapidKey(auth[2]), {
        audience: origin,
        algorithms: ['ES256'],
      });
      if (typeof payload.exp !== 'number' || payload.exp - Date.now() / 1000 > 24 * 3600)
        return refuse(403, 'VAPID exp more than 24 h ahead');
      if (!/^(mailto:|https:)/.test(String(payload.sub ?? ''))) return refuse(403, 'VAPID sub');
    } catch (error) {
      return refuse(403, `VAPID JWT: ${(error as Error).message}`);
    }
    if (req.headers.ttl === undefined || !/^\d+$/.test(String(req.headers.ttl)))
      return refuse(400, 'TTL header required');
    if (req.headers['content-encoding'] !== 'aes128gcm')
      return refuse(415, 'Content-Encoding must be aes128gcm');
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(
        decryptWebPush(body, {
          privateKey: sub.privateKey,
          p256dh: Buffer.from(sub.keys.p256dh, 'base64url'),
          auth: Buffer.from(sub.keys.auth, 'base64url'),
        }).toString('utf8'),
      ) as Record<string, unknown>;
    } catch (error) {
      return refuse(400, `cannot decrypt: ${(error as Error).message}`);
    }
    const n = (counts.get(endpoint) ?? 0) + 1;
    counts.set(endpoint, n);
    const verdict = behaviourStatus(behaviours.get(endpoint), n);
    if (verdict.status === 'unregistered') {
      record(410, payload);
      res.writeHead(410).end('push subscription has unsubscribed or expired');
      return;
    }
    if (verdict.status === 'throttle') {
      record(429, payload);
      res.writeHead(429, { 'retry-after': String(verdict.retryAfterSeconds) }).end('slow down');
      return;
    }
    record(201, payload);
    res.writeHead(201, { location: `${origin}/messages/${randomUUID()}` }).end();
  };

  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    handle(req, res).catch((error: Error) => res.writeHead(500).end(error.message));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: FakeWebPush = {
    url: origin,
    caFile: tls.caFile,
    requests: [],
    subscribe() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const id = randomUUID();
      const sub: BrowserSubscription = {
        id,
        endpoint: `${origin}/push/${id}`,
        keys: {
          p256dh: ecdh.getPublicKey().toString('base64url'),
          auth: randomBytes(16).toString('base64url'),
        },
        privateKey: ecdh.getPrivateKey(),
      };
      subscriptions.set(sub.endpoint, sub);
      return sub;
    },
    behave(endpoint, b) {
      if (b) behaviours.set(endpoint, b);
      else behaviours.delete(endpoint);
      counts.delete(endpoint);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
