// Slow and greedy clients (issue 14, item 7): a client that sends its headers slowly gets 408
// after HTTP_HEADERS_TIMEOUT_MS, one address cannot hold more than HTTP_MAX_CONNECTIONS_PER_IP
// sockets, and a failing readiness probe logs one line, not a stack trace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { get } from 'node:http';
import { type Socket, connect } from 'node:net';
import {
  type RunningService,
  type ThrowawayServer,
  startService,
  testEnv,
  throwawayRedis,
} from '@bible/testing';

const HEADERS_TIMEOUT_MS = 2_000;
const MAX_PER_IP = 20;

describe('slow and greedy clients', { timeout: 2 * 60_000 }, () => {
  let gateway: RunningService;
  let redis: ThrowawayServer;

  before(async () => {
    redis = await throwawayRedis();
    gateway = await startService(
      'api-gateway',
      testEnv({
        REDIS_URL: redis.url,
        LOG_LEVEL: 'info',
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_MAX_CONNECTIONS_PER_IP: String(MAX_PER_IP),
      }),
    );
  });

  after(async () => {
    await gateway?.stop('SIGKILL');
    await redis?.destroy();
  });

  /** A request on a connection of its own (no keep-alive pool shared with other tests). */
  const statusOf = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      get(`${gateway.url}${path}`, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });

  const open = async (): Promise<Socket> => {
    const socket = connect(gateway.port, '127.0.0.1');
    await once(socket, 'connect');
    return socket;
  };

  it('a client that sends its headers slowly gets 408 after the headers timeout', async () => {
    const socket = await open();
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const started = Date.now();
    socket.write('GET /v1/packages/keys HTTP/1.1\r\nHost: localhost\r\n');
    const trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), 500);
    await once(socket, 'close');
    clearInterval(trickle);
    const elapsed = Date.now() - started;
    assert.match(received, /^HTTP\/1\.1 408/);
    assert.ok(elapsed >= HEADERS_TIMEOUT_MS - 100, `closed after ${elapsed} ms`);
    assert.ok(elapsed < HEADERS_TIMEOUT_MS + 2_000, `closed after ${elapsed} ms`);
  });

  it('one address holds at most HTTP_MAX_CONNECTIONS_PER_IP connections', async () => {
    const sockets = await Promise.all(Array.from({ length: MAX_PER_IP + 5 }, open));
    const closed = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), 500);
            s.once('close', () => (clearTimeout(timer), resolve(true)));
          }),
      ),
    );
    // Connections this process already had open count too.
    const accepted = closed.filter((c) => !c).length;
    assert.ok(accepted <= MAX_PER_IP && accepted >= MAX_PER_IP - 3, `${accepted} accepted`);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await statusOf('/health/live')).status, 200);
    const metrics = (await statusOf('/metrics')).body;
    const refused = Number(
      /^bible_http_connections_refused_total(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1],
    );
    assert.equal(refused, sockets.length - accepted);
  });

  it('a failing readiness probe logs one line per probe, without a stack', async () => {
    await redis.stop();
    try {
      const before = gateway.output().length;
      for (let i = 0; i < 3; i++) assert.equal((await statusOf('/health/ready')).status, 503);
      await new Promise((r) => setTimeout(r, 300));
      const lines = gateway
        .output()
        .slice(before)
        .split('\n')
        .filter((l) => l.includes('/health/ready'));
      assert.equal(lines.length, 3, lines.join('\n'));
      for (const line of lines) assert.doesNotMatch(line, /"stack"/);
    } finally {
      await redis.start();
    }
  });
});
