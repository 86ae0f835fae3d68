// The demo's webhook subscriber: a local receiver on loopback, subscribed to package.ready through
// the admin API, that verifies every delivery with the `standardwebhooks` package (an
// implementation independent of the notifier's) before accepting it.
import { createServer } from 'node:http';
import { once } from 'node:events';
import { Webhook } from 'standardwebhooks';

export interface VerifiedDelivery {
  webhookId: string;
  type: string;
  packageId: string;
  signatures: number;
  /** Event recorded → delivery received, in ms. */
  latencyMs: number;
}

export async function startDemoSubscriber(gateway: string, adminToken: string) {
  const received = new Map<string, VerifiedDelivery>();
  let rejected = 0;
  let secret = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const event = new Webhook(secret).verify(body, req.headers as Record<string, string>) as {
          type: string;
          timestamp: string;
          data: { packageId?: string };
        };
        const packageId = event.data.packageId ?? '';
        received.set(packageId, {
          webhookId: String(req.headers['webhook-id']),
          type: event.type,
          packageId,
          signatures: String(req.headers['webhook-signature']).split(' ').length,
          latencyMs: Date.now() - Date.parse(event.timestamp),
        });
        res.writeHead(204).end();
      } catch {
        rejected++;
        res.writeHead(400).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gateway}/v1/admin/webhooks${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(`${method} /v1/admin/webhooks${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const subscription = await call<{ id: string; secret: string }>('POST', '', {
    url,
    eventTypes: ['package.ready'],
    description: 'npm run demo',
  });
  secret = subscription.secret;
  return {
    url,
    subscriptionId: subscription.id,
    /** Redeliver package.ready events recorded since `since` (packages built by an earlier run). */
    replay: (since: Date) =>
      call('POST', `/${subscription.id}/replay`, { since: since.toISOString() }),
    async waitFor(
      packageIds: string[],
      timeoutMs: number,
    ): Promise<(VerifiedDelivery | undefined)[]> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !packageIds.every((id) => received.has(id)))
        await new Promise((r) => setTimeout(r, 100));
      return packageIds.map((id) => received.get(id));
    },
    rejected: () => rejected,
    async close() {
      await call('DELETE', `/${subscription.id}`).catch(() => undefined);
      server.closeAllConnections();
      server.close();
    },
  };
}
