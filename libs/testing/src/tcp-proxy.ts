import { once } from 'node:events';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { freePort } from './service-process';

export interface TcpProxy {
  port: number;
  /** `http://127.0.0.1:<port>`, for endpoints such as S3_ENDPOINT. */
  url: string;
  /** Caps client→server bytes per second (0: unlimited), e.g. to make an upload take seconds. */
  throttleUpstream(bytesPerSecond: number): void;
  /** Holds each client→server chunk this long (0: none), e.g. to slow every database query. */
  delayUpstream(ms: number): void;
  /** An outage: open connections are cut and new ones refused until `restore`. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy on a free loopback port in front of a real server (e.g. the stack's MinIO), so a test
 * can slow one service's traffic or take the server away from it alone, without touching the
 * shared server other suites use.
 */
export async function startTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let rate = 0;
  let delay = 0;
  let server: Server | undefined;

  const pipeThrottled = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (rate <= 0 && delay <= 0) {
        if (!to.write(chunk)) from.pause();
        return;
      }
      // Hold the reader for the delay, then for as long as the chunk takes at the configured
      // rate: chunks keep their order.
      from.pause();
      const hold = rate > 0 ? Math.ceil((chunk.length / rate) * 1000) : 0;
      const send = () => {
        to.write(chunk);
        setTimeout(() => from.resume(), hold);
      };
      if (delay > 0) setTimeout(send, delay);
      else send();
    });
    to.on('drain', () => rate <= 0 && delay <= 0 && from.resume());
    from.on('end', () => to.end());
  };

  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      pipeThrottled(client, upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (!client.write(chunk)) upstream.pause();
      });
      client.on('drain', () => upstream.resume());
      upstream.on('end', () => client.end());
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  };

  const stopListening = async () => {
    if (!server) return;
    const closed = once(server, 'close');
    server.close();
    for (const s of sockets) s.destroy();
    await closed;
    server = undefined;
  };

  await listen();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    throttleUpstream(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    delayUpstream(ms) {
      delay = ms;
    },
    cut: stopListening,
    async restore() {
      if (!server) await listen();
    },
    close: stopListening,
  };
}
