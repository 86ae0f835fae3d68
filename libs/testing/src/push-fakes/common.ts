import type { IncomingHttpHeaders } from 'node:http';

/** How a fake answers a given device token (otherwise: success). */
export type FakeBehaviour =
  /** The provider's "this token is dead" answer (FCM 404 UNREGISTERED, APNs 410, Web Push 410). */
  | { kind: 'unregistered' }
  /** 429 with Retry-After for the first `times` requests, then success. */
  | { kind: 'throttle'; retryAfterSeconds: number; times: number };

/** One request a fake accepted or refused, as the tests inspect it. */
export interface FakeRequest {
  token: string;
  status: number;
  headers: IncomingHttpHeaders;
  /** The message as the device would see it (JSON body; Web Push: the decrypted payload). */
  payload: Record<string, unknown> | null;
  at: number;
  /** Why the fake refused the request (protocol or auth violation). */
  error?: string;
}

/** Decides the status for a token's n-th request under its behaviour. */
export function behaviourStatus(
  behaviour: FakeBehaviour | undefined,
  n: number,
): { status: 'ok' | 'unregistered' | 'throttle'; retryAfterSeconds?: number } {
  if (!behaviour) return { status: 'ok' };
  if (behaviour.kind === 'unregistered') return { status: 'unregistered' };
  return n <= behaviour.times
    ? { status: 'throttle', retryAfterSeconds: behaviour.retryAfterSeconds }
    : { status: 'ok' };
}

export function readBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
