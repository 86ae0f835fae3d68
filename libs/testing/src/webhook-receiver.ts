import { createServer, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Answer after this many ms (a slow receiver). */
  delayMs?: number;
}

/** Decides the answer to the n-th request (1-based) on a path; 200 when none is set. */
export type Responder = (request: ReceivedWebhook, n: number) => Reply;

export interface WebhookReceiver {
  url: string;
  port: number;
  /** Every request, in arrival order (when `keep` is on). */
  received: ReceivedWebhook[];
  /** Requests on one path. */
  on(path: string): ReceivedWebhook[];
  /** Requests per path, counted even when bodies are not kept. */
  count(path: string): number;
  respond(path: string, responder: Responder): void;
  close(): Promise<void>;
}

/**
 * A local HTTP receiver for webhook tests, demos and benchmarks: records what arrives and
 * answers as told per path (status, headers, delay). `keep: false` only counts (benchmarks).
 */
export async function startWebhookReceiver(
  options: { keep?: boolean; host?: string } = {},
): Promise<WebhookReceiver> {
  const keep = options.keep ?? true;
  const received: ReceivedWebhook[] = [];
  const counts = new Map<string, number>();
  const responders = new Map<string, Responder>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const request = {
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      if (keep) received.push(request);
      const reply = responders.get(path)?.(request, n) ?? { status: 200 };
      const answer = () => {
        res.writeHead(reply.status, reply.headers);
        res.end();
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    received,
    on: (path) => received.filter((r) => r.path === path),
    count: (path) => counts.get(path) ?? 0,
    respond: (path, responder) => responders.set(path, responder),
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
