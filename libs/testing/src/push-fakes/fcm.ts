import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importSPKI, jwtVerify } from 'jose';
import { type FakeBehaviour, type FakeRequest, behaviourStatus, readBody } from './common';

/** The audience google-auth-library signs (Google's token URL), whatever URL it posts to. */
const GOOGLE_TOKEN_AUD = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FakeFcm {
  /** FCM_ENDPOINT */
  url: string;
  /** FCM_TOKEN_URI (also the key's token_uri) */
  tokenUri: string;
  /** FCM_SERVICE_ACCOUNT_FILE: a service-account key whose private key only this fake trusts. */
  serviceAccountFile: string;
  projectId: string;
  /** Every messages:send request, accepted or not. */
  requests: FakeRequest[];
  /** Access tokens issued (one per JWT assertion exchanged). */
  tokensIssued: number;
  /** Count only, no request bodies (benchmarks). */
  keep: boolean;
  sent: number;
  behave(token: string, behaviour: FakeBehaviour | undefined): void;
  close(): Promise<void>;
}

const fcmError = (
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown>[] = [],
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(
    JSON.stringify({
      error: {
        code: status,
        message,
        status: status === 404 ? 'NOT_FOUND' : status === 429 ? 'RESOURCE_EXHAUSTED' : code,
        details: [
          { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: code },
          ...extra,
        ],
      },
    }),
  );
};

/** Checks a messages:send body the way FCM v1 does for the fields we use; null when valid. */
export function fcmBodyProblem(body: unknown): { field: string; message: string } | null {
  const message = (body as { message?: Record<string, unknown> } | null)?.message;
  if (!message || typeof message !== 'object') return { field: 'message', message: 'required' };
  if (typeof message.token !== 'string' || message.token.length === 0)
    return { field: 'message.token', message: 'a registration token is required' };
  const n = message.notification as Record<string, unknown> | undefined;
  if (n && (typeof n.title !== 'string' || typeof n.body !== 'string'))
    return { field: 'message.notification', message: 'title and body must be strings' };
  const data = message.data as Record<string, unknown> | undefined;
  if (data && Object.values(data).some((v) => typeof v !== 'string'))
    return { field: 'message.data', message: 'data values must be strings' };
  const android = message.android as Record<string, unknown> | undefined;
  if (
    android?.ttl !== undefined &&
    (typeof android.ttl !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(android.ttl))
  )
    return { field: 'message.android.ttl', message: 'a duration like "3.5s"' };
  return null;
}

/**
 * A fake FCM HTTP v1 server: OAuth2 token endpoint verifying the RS256 JWT assertion of its own
 * test service account (iss, aud, scope, expiry), and messages:send checking the bearer token,
 * the project and the body. Tokens can be told to answer UNREGISTERED or 429 + Retry-After.
 */
export async function startFakeFcm(
  options: {
    projectId?: string;
    keep?: boolean;
    host?: string;
    port?: number;
    /** An existing key (the local stack's) to trust instead of generating one. */
    serviceAccountFile?: string;
  } = {},
): Promise<FakeFcm> {
  const existing = options.serviceAccountFile
    ? (JSON.parse(readFileSync(options.serviceAccountFile, 'utf8')) as {
        project_id: string;
        private_key: string;
        client_email: string;
      })
    : null;
  const projectId = existing?.project_id ?? options.projectId ?? 'bible-test';
  const privateKey = existing
    ? createPrivateKey(existing.private_key)
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const verifyKey = await importSPKI(
    createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
    'RS256',
  );
  const clientEmail = existing?.client_email ?? `notifier@${projectId}.iam.gserviceaccount.com`;
  const accessTokens = new Set<string>();
  const behaviours = new Map<string, FakeBehaviour>();
  const counts = new Map<string, number>();

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const deny = (description: string) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_grant', error_description: description }));
    };
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return deny('unsupported grant_type');
    try {
      const { payload } = await jwtVerify(form.get('assertion') ?? '', verifyKey, {
        issuer: clientEmail,
        audience: GOOGLE_TOKEN_AUD,
        algorithms: ['RS256'],
      });
      if (typeof payload.scope !== 'string' || !payload.scope.split(' ').includes(SCOPE))
        return deny('scope missing');
    } catch (error) {
      return deny(`invalid JWT assertion: ${(error as Error).message}`);
    }
    const access = `ya29.fake-${randomBytes(16).toString('hex')}`;
    accessTokens.add(access);
    fake.tokensIssued++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: access, expires_in: 3599, token_type: 'Bearer' }));
  };

  const send = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    const record = (entry: Omit<FakeRequest, 'headers' | 'at'>) => {
      if (fake.keep) fake.requests.push({ ...entry, headers: req.headers, at: Date.now() });
    };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !accessTokens.has(bearer)) {
      record({ token: '', status: 401, payload: null, error: 'bad bearer token' });
      return fcmError(
        res,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials.',
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return fcmError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const problem = fcmBodyProblem(body);
    const message = (body as { message?: Record<string, unknown> }).message ?? {};
    const deviceToken = typeof message.token === 'string' ? message.token : '';
    if (problem) {
      record({ token: deviceToken, status: 400, payload: message, error: problem.message });
      return fcmError(res, 400, 'INVALID_ARGUMENT', problem.message, [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [{ field: problem.field, description: problem.message }],
        },
      ]);
    }
    const n = (counts.get(deviceToken) ?? 0) + 1;
    counts.set(deviceToken, n);
    const verdict = behaviourStatus(behaviours.get(deviceToken), n);
    if (verdict.status === 'unregistered') {
      record({ token: deviceToken, status: 404, payload: message });
      return fcmError(res, 404, 'UNREGISTERED', 'Requested entity was not found.');
    }
    if (verdict.status === 'throttle') {
      record({ token: deviceToken, status: 429, payload: message });
      return fcmError(res, 429, 'QUOTA_EXCEEDED', 'Quota exceeded.', [], {
        'retry-after': String(verdict.retryAfterSeconds),
      });
    }
    record({ token: deviceToken, status: 200, payload: message });
    fake.sent++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: `projects/${projectId}/messages/${randomUUID()}` }));
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const handler =
      req.method === 'POST' && path === '/token'
        ? token
        : req.method === 'POST' && path === `/v1/projects/${projectId}/messages:send`
          ? send
          : null;
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    handler(req, res).catch((error: Error) => {
      res.writeHead(500).end(error.message);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const serviceAccountFile =
    options.serviceAccountFile ??
    join(mkdtempSync(join(tmpdir(), 'fake-fcm-')), 'service-account.json');
  if (!existing)
    writeFileSync(
      serviceAccountFile,
      JSON.stringify({
        type: 'service_account',
        project_id: projectId,
        private_key_id: randomBytes(20).toString('hex'),
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        client_email: clientEmail,
        client_id: '100000000000000000000',
        token_uri: `${url}/token`,
      }),
    );
  const fake: FakeFcm = {
    url,
    tokenUri: `${url}/token`,
    serviceAccountFile,
    projectId,
    requests: [],
    tokensIssued: 0,
    keep: options.keep ?? true,
    sent: 0,
    behave(t, b) {
      if (b) behaviours.set(t, b);
      else behaviours.delete(t);
      counts.delete(t);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
