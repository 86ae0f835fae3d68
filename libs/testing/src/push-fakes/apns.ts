import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { constants, createSecureServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { type FakeBehaviour, type FakeRequest, behaviourStatus, readBody } from './common';
import { type TlsMaterial, selfSignedCertificate } from '../tls';

const PUSH_TYPES = [
  'alert',
  'background',
  'location',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
];

export interface FakeApns {
  /** APNS_HOST */
  url: string;
  /** APNS_CA_FILE: the self-signed certificate the client must trust. */
  caFile: string;
  /** APNS_KEY_FILE: a .p8 key (PKCS#8 EC P-256) only this fake trusts. */
  keyFile: string;
  keyId: string;
  teamId: string;
  topic: string;
  requests: FakeRequest[];
  /** HTTP/2 connections accepted (the client should multiplex over one). */
  connections: number;
  /** Distinct provider JWTs seen (the client should reuse one). */
  jwtsSeen: Set<string>;
  behave(token: string, behaviour: FakeBehaviour | undefined): void;
  close(): Promise<void>;
}

/**
 * A fake APNs provider API over HTTP/2 and TLS (self-signed certificate): checks the ES256
 * provider token (kid = key id, iss = team id, iat within the hour), the path
 * /3/device/<token>, apns-topic, apns-push-type and apns-collapse-id (≤ 64 bytes) and the aps
 * payload, and answers like APNs: 200 + apns-id, 410 Unregistered (with timestamp), 400
 * BadDeviceToken, 403 ExpiredProviderToken/InvalidProviderToken, 429 TooManyRequests.
 */
export async function startFakeApns(
  options: {
    topic?: string;
    teamId?: string;
    keyId?: string;
    port?: number;
    /** An existing .p8 key (the local stack's) to trust instead of generating one. */
    keyFile?: string;
    tls?: TlsMaterial;
  } = {},
): Promise<FakeApns> {
  const topic = options.topic ?? 'org.bible.app';
  const teamId = options.teamId ?? 'TEAM123456';
  const keyId = options.keyId ?? 'KEY1234567';
  const dir = mkdtempSync(join(tmpdir(), 'fake-apns-'));
  const keyFile = options.keyFile ?? join(dir, `AuthKey_${keyId}.p8`);
  if (!options.keyFile)
    writeFileSync(
      keyFile,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }),
    );
  const verifyKey = await importSPKI(
    createPublicKey(createPrivateKey(readFileSync(keyFile)))
      .export({ type: 'spki', format: 'pem' })
      .toString(),
    'ES256',
  );
  const tls = options.tls ?? selfSignedCertificate(dir);
  const behaviours = new Map<string, FakeBehaviour>();
  const counts = new Map<string, number>();

  const server = createSecureServer({ key: tls.key, cert: tls.cert });
  server.on('session', () => fake.connections++);
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    void (async () => {
      const body = await readBody(stream);
      const path = String(headers[constants.HTTP2_HEADER_PATH] ?? '');
      const token = /^\/3\/device\/([0-9a-fA-F]+)$/.exec(path)?.[1] ?? '';
      let payload: Record<string, unknown> | null = null;
      const answer = (
        status: number,
        reason?: string,
        extra: Record<string, string | number> = {},
      ) => {
        fake.requests.push({
          token,
          status,
          headers,
          payload,
          at: Date.now(),
          ...(reason && { error: reason }),
        });
        const apnsId = String(headers['apns-id'] ?? randomUUID()).toUpperCase();
        stream.respond({
          ':status': status,
          'apns-id': apnsId,
          ...(reason && { 'content-type': 'application/json' }),
          ...(extra['retry-after'] !== undefined && {
            'retry-after': String(extra['retry-after']),
          }),
        });
        stream.end(
          reason
            ? JSON.stringify({
                reason,
                ...(extra.timestamp !== undefined && { timestamp: extra.timestamp }),
              })
            : undefined,
        );
      };
      if (headers[constants.HTTP2_HEADER_METHOD] !== 'POST') return answer(405, 'MethodNotAllowed');
      if (!token) return answer(400, 'BadPath');
      const jwt = /^bearer (.+)$/i.exec(String(headers.authorization ?? ''))?.[1];
      if (!jwt) return answer(403, 'MissingProviderToken');
      try {
        const header = decodeProtectedHeader(jwt);
        if (header.kid !== keyId) return answer(403, 'InvalidProviderToken');
        const { payload: claims } = await jwtVerify(jwt, verifyKey, {
          issuer: teamId,
          algorithms: ['ES256'],
        });
        if (typeof claims.iat !== 'number' || Date.now() / 1000 - claims.iat > 3600)
          return answer(403, 'ExpiredProviderToken');
      } catch {
        return answer(403, 'InvalidProviderToken');
      }
      fake.jwtsSeen.add(jwt);
      if (headers['apns-topic'] !== topic)
        return answer(400, headers['apns-topic'] ? 'TopicDisallowed' : 'MissingTopic');
      if (!PUSH_TYPES.includes(String(headers['apns-push-type'])))
        return answer(400, 'InvalidPushType');
      const collapse = headers['apns-collapse-id'];
      if (collapse !== undefined && Buffer.byteLength(String(collapse)) > 64)
        return answer(400, 'BadCollapseId');
      try {
        payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return answer(400, 'PayloadEmpty');
      }
      if (typeof payload.aps !== 'object' || payload.aps === null) return answer(400, 'BadPayload');
      if (body.length > 4096) return answer(413, 'PayloadTooLarge');
      const n = (counts.get(token) ?? 0) + 1;
      counts.set(token, n);
      const verdict = behaviourStatus(behaviours.get(token), n);
      if (verdict.status === 'unregistered')
        return answer(410, 'Unregistered', { timestamp: Date.now() });
      if (verdict.status === 'throttle')
        return answer(429, 'TooManyRequests', { 'retry-after': verdict.retryAfterSeconds ?? 1 });
      answer(200);
    })().catch(() => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const fake: FakeApns = {
    url: `https://localhost:${port}`,
    caFile: tls.caFile,
    keyFile,
    keyId,
    teamId,
    topic,
    requests: [],
    connections: 0,
    jwtsSeen: new Set(),
    behave(t, b) {
      if (b) behaviours.set(t, b);
      else behaviours.delete(t);
      counts.delete(t);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return fake;
}
