import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Counter } from 'prom-client';
import { getLogger, metricsRegistry } from '@bible/common';

const refused = new Counter({
  name: 'bible_http_connections_refused_total',
  help: 'Connections closed at accept because their client address had too many open already.',
  registers: [metricsRegistry],
});

export interface ConnectionLimits {
  /** Time a client has to send the complete request head (slow-header clients get 408). */
  headersTimeoutMs: number;
  /** Time a client has to send the complete request, body included. */
  requestTimeoutMs: number;
  /** Open connections one client address may hold; 0 disables the cap (e.g. behind a proxy). */
  maxConnectionsPerIp: number;
}

/**
 * Deliberate limits on the gateway's HTTP listener: slow-header and slow-body clients are cut
 * off by Node's own timers, and one address cannot hold more than its share of sockets (a
 * connection over the cap is closed at accept, before any bytes are read or memory is spent).
 */
export function applyConnectionLimits(server: Server, limits: ConnectionLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // Node checks both timeouts on this timer (default 30 s, read at listen): without it a slow
  // client is answered up to 30 s late.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.min(1_000, limits.headersTimeoutMs);
  if (limits.maxConnectionsPerIp <= 0) return;
  const open = new Map<string, number>();
  let lastWarning = 0;
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    const count = (open.get(ip) ?? 0) + 1;
    if (count > limits.maxConnectionsPerIp) {
      refused.inc();
      if (Date.now() - lastWarning > 10_000) {
        lastWarning = Date.now();
        getLogger().warn(
          { ip, limit: limits.maxConnectionsPerIp },
          'connection refused: too many open connections from one address',
        );
      }
      socket.destroy();
      return;
    }
    open.set(ip, count);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left <= 0) open.delete(ip);
      else open.set(ip, left);
    });
  });
}
