// The three provider clients against the local fakes, which speak the real protocols (OAuth2
// JWT-bearer + FCM v1, APNs over HTTP/2 + TLS with ES256 provider tokens, Web Push with VAPID
// and RFC 8291 encryption). No database: the clients are the system under test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import webpush from 'web-push';
import {
  type FakeApns,
  type FakeFcm,
  type FakeWebPush,
  startFakeApns,
  startFakeFcm,
  startFakeWebPush,
} from '@bible/testing';
import { parseCidrList } from '@bible/common/egress/address-guard';
import { ApnsProvider } from './apns';
import { FcmProvider } from './fcm';
import type { PushMessage } from './provider';
import { WebPushProvider } from './webpush';

const message: PushMessage = {
  title: 'Download ready',
  body: 'Your package is ready.',
  data: { type: 'package.ready', packageId: 'pkg-1', cursor: '42' },
  collapseKey: 'package:abc',
  ttlSeconds: 3600,
};

describe('push providers against protocol fakes', { timeout: 60_000 }, () => {
  let fcm: FakeFcm;
  let apns: FakeApns;
  let web: FakeWebPush;
  let fcmClient: FcmProvider;
  let apnsClient: ApnsProvider;
  let webClient: WebPushProvider;
  const vapid = webpush.generateVAPIDKeys();

  before(async () => {
    [fcm, apns, web] = await Promise.all([
      startFakeFcm(),
      startFakeApns(),
      startFakeWebPush({ vapidPublicKey: vapid.publicKey }),
    ]);
    fcmClient = new FcmProvider({
      serviceAccountFile: fcm.serviceAccountFile,
      endpoint: fcm.url,
      tokenUri: fcm.tokenUri,
      timeoutMs: 5_000,
      connections: 4,
    });
    apnsClient = new ApnsProvider({
      keyFile: apns.keyFile,
      keyId: apns.keyId,
      teamId: apns.teamId,
      topic: apns.topic,
      host: apns.url,
      caFile: apns.caFile,
      timeoutMs: 5_000,
    });
    webClient = new WebPushProvider({
      publicKey: vapid.publicKey,
      privateKey: vapid.privateKey,
      subject: 'mailto:ops@example.org',
      allowed: parseCidrList('127.0.0.0/8'),
      caFile: web.caFile,
      timeoutMs: 5_000,
    });
  });

  after(async () => {
    await Promise.all([fcmClient, apnsClient, webClient].map((c) => c?.close()));
    await Promise.all([fcm, apns, web].map((f) => f?.close()));
  });

  it('FCM: OAuth2 token from the service account, message accepted, token reused', async () => {
    const a = await fcmClient.send({ token: 'android-1' }, message);
    const b = await fcmClient.send({ token: 'android-2' }, message);
    assert.equal(a.kind, 'sent', JSON.stringify(a));
    assert.equal(b.kind, 'sent');
    assert.match(a.kind === 'sent' ? String(a.messageId) : '', /^projects\/bible-test\/messages\//);
    assert.equal(fcm.tokensIssued, 1, 'one access token for both sends');
    const got = fcm.requests.find((r) => r.token === 'android-1');
    assert.deepEqual((got?.payload as { data: unknown }).data, message.data);
    assert.equal(
      (got?.payload as { android: { collapse_key: string } }).android.collapse_key,
      'package:abc',
    );
  });

  it('FCM: UNREGISTERED prunes, 429 retries with Retry-After', async () => {
    fcm.behave('dead', { kind: 'unregistered' });
    fcm.behave('busy', { kind: 'throttle', retryAfterSeconds: 7, times: 1 });
    assert.equal((await fcmClient.send({ token: 'dead' }, message)).kind, 'prune');
    const busy = await fcmClient.send({ token: 'busy' }, message);
    assert.equal(busy.kind, 'retry');
    assert.equal(busy.kind === 'retry' && busy.retryAfterMs, 7_000);
    assert.equal((await fcmClient.send({ token: 'busy' }, message)).kind, 'sent');
  });

  it('APNs: HTTP/2 with one connection and one JWT, headers checked by the fake', async () => {
    const tokens = Array.from(
      { length: 20 },
      (_, i) => `${'ab'.repeat(31)}${i.toString(16).padStart(2, '0')}`,
    );
    const results = await Promise.all(tokens.map((t) => apnsClient.send({ token: t }, message)));
    for (const r of results) assert.equal(r.kind, 'sent', JSON.stringify(r));
    assert.equal(apns.connections, 1, 'multiplexed over one connection');
    assert.equal(apns.jwtsSeen.size, 1, 'provider token reused');
    const req = apns.requests[0];
    assert.equal(req.headers['apns-topic'], apns.topic);
    assert.equal(req.headers['apns-push-type'], 'alert');
    assert.equal(req.headers['apns-collapse-id'], 'package:abc');
    assert.deepEqual((req.payload as { aps: { alert: unknown } }).aps.alert, {
      title: message.title,
      body: message.body,
    });
  });

  it('APNs: the provider token is signed again after 50 minutes', async () => {
    const now = Date.now();
    const first = await apnsClient.providerToken(now);
    assert.equal(await apnsClient.providerToken(now + 49 * 60_000), first);
    assert.notEqual(await apnsClient.providerToken(now + 51 * 60_000), first);
  });

  it('APNs: 410 Unregistered carries its timestamp; 429 retries', async () => {
    const dead = 'cd'.repeat(32);
    apns.behave(dead, { kind: 'unregistered' });
    const r = await apnsClient.send({ token: dead }, message);
    assert.equal(r.kind, 'prune');
    assert.ok(r.kind === 'prune' && r.invalidSince instanceof Date);
    const busy = 'ef'.repeat(32);
    apns.behave(busy, { kind: 'throttle', retryAfterSeconds: 2, times: 1 });
    const b = await apnsClient.send({ token: busy }, message);
    assert.equal(b.kind, 'retry');
  });

  it('Web Push: VAPID + aes128gcm, the fake decrypts with the browser key', async () => {
    const sub = web.subscribe();
    const r = await webClient.send({ token: sub.endpoint, ...sub.keys }, message);
    assert.equal(r.kind, 'sent', JSON.stringify(r));
    const got = web.requests.find((q) => q.token === sub.endpoint);
    assert.equal(got?.status, 201);
    assert.deepEqual(got?.payload, {
      title: message.title,
      body: message.body,
      data: message.data,
      tag: 'package:abc',
    });
  });

  it('Web Push: 410 prunes; refused addresses are never called', async () => {
    const sub = web.subscribe();
    web.behave(sub.endpoint, { kind: 'unregistered' });
    assert.equal(
      (await webClient.send({ token: sub.endpoint, ...sub.keys }, message)).kind,
      'prune',
    );
    const strict = new WebPushProvider({
      publicKey: vapid.publicKey,
      privateKey: vapid.privateKey,
      subject: 'mailto:ops@example.org',
      allowed: [],
      caFile: web.caFile,
      timeoutMs: 5_000,
    });
    const refused = await strict.send({ token: web.subscribe().endpoint, ...sub.keys }, message);
    await strict.close();
    assert.equal(refused.kind, 'failed');
    assert.match(refused.kind === 'failed' ? refused.reason : '', /loopback/);
  });
});
