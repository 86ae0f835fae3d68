// The demo's devices: the local push fakes (libs/testing push-fakes, speaking the FCM v1, APNs
// HTTP/2 and Web Push protocols) started on the ports and with the credentials the local stack
// configured the notifier with (scripts/stack/push-fakes.sh), and an Android phone, an iPhone and
// a browser registered for the demo user through POST /v1/push-tokens.
import { randomBytes } from 'node:crypto';
import { type RequestBody, createApiClient, ok } from '@bible/client';
import {
  type FakeRequest,
  loadTls,
  startFakeApns,
  startFakeFcm,
  startFakeWebPush,
} from '@bible/testing';

export interface DemoDevices {
  /** The package.ready push each device received for `packageId`, or null after the timeout. */
  waitFor(packageId: string, timeoutMs: number): Promise<Record<string, FakeRequest | null>>;
  close(): Promise<void>;
}

const env = (name: string) => {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set (scripts/stack/up.sh adds it unless PUSH_FAKES=0)`);
  return value;
};

/** null when the stack was set up without push fakes (PUSH_FAKES=0). */
export async function startDemoDevices(
  gateway: string,
  userToken: string,
): Promise<DemoDevices | null> {
  if (!process.env.PUSH_FAKES_PORT || !process.env.VAPID_PUBLIC_KEY) return null;
  const port = Number(env('PUSH_FAKES_PORT'));
  const tls = loadTls(env('PUSH_FAKES_TLS_KEY_FILE'), env('APNS_CA_FILE'));
  const [fcm, apns, web] = await Promise.all([
    startFakeFcm({ port, serviceAccountFile: env('FCM_SERVICE_ACCOUNT_FILE') }),
    startFakeApns({
      port: port + 1,
      keyFile: env('APNS_KEY_FILE'),
      keyId: env('APNS_KEY_ID'),
      teamId: env('APNS_TEAM_ID'),
      topic: env('APNS_TOPIC'),
      tls,
    }),
    startFakeWebPush({ port: port + 2, tls, vapidPublicKey: env('VAPID_PUBLIC_KEY') }),
  ]);
  const android = `demo-${randomBytes(24).toString('base64url')}`;
  const ios = randomBytes(32).toString('hex');
  const browser = web.subscribe();
  const api = createApiClient({ baseUrl: gateway, token: userToken });
  const register = async (body: RequestBody<'postV1PushTokens'>) => {
    ok(await api.POST('/v1/push-tokens', { body }), 'POST /v1/push-tokens');
  };
  await register({ platform: 'android', token: android, deviceId: 'demo-pixel', locale: 'es' });
  await register({ platform: 'ios', token: ios, deviceId: 'demo-iphone' });
  await register({
    platform: 'web',
    token: { endpoint: browser.endpoint, expirationTime: null, keys: browser.keys },
    deviceId: 'demo-browser',
    locale: 'fr',
  });
  const find = (requests: FakeRequest[], token: string, packageId: string) =>
    requests.find((r) => {
      const p = r.payload as { data?: { packageId?: string }; packageId?: string } | null;
      return (
        r.token === token && r.status < 300 && (p?.data?.packageId ?? p?.packageId) === packageId
      );
    }) ?? null;
  return {
    async waitFor(packageId, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = {
          'android (FCM v1)': find(fcm.requests, android, packageId),
          'ios (APNs HTTP/2)': find(apns.requests, ios, packageId),
          'web (Web Push, decrypted)': find(web.requests, browser.endpoint, packageId),
        };
        if (Object.values(got).every(Boolean) || Date.now() > deadline) return got;
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async close() {
      await Promise.all([fcm.close(), apns.close(), web.close()]);
    },
  };
}
