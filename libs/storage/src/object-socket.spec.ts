import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { getEventListeners, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Server as TlsServer, createServer as createTlsServer } from 'node:tls';
import {
  ClientStalledError,
  ObjectStoreHttpError,
  openObjectSocket,
  openObjectSocketCount,
  parseResponseHead,
} from './object-socket';
import { selfSignedCertificate } from '@bible/testing';

/** A TCP server standing in for the object store: each test scripts the raw bytes it answers. */
async function fakeStore(
  handle: (socket: Socket, request: string) => void,
): Promise<{ url: URL; server: Server; requests: string[]; closed: Promise<void>[] }> {
  const requests: string[] = [];
  const closed: Promise<void>[] = [];
  const server = createServer((socket) => {
    // Not events.once: that rejects on the ECONNRESET an aborted transfer produces.
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    let head = '';
    socket.on('data', (data) => {
      if (head.includes('\r\n\r\n')) return;
      head += data.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        requests.push(head);
        handle(socket, head);
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: new URL(`http://127.0.0.1:${port}/bucket/key?X-Amz-Signature=abc`),
    server,
    requests,
    closed,
  };
}

function collect(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

describe('openObjectSocket', () => {
  it('streams a body sent in many small writes, head split across reads', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const store = await fakeStore((socket) => {
      const head = `HTTP/1.1 206 Partial Content\r\nContent-Length: ${body.length}\r\nETag: "x"\r\n\r\n`;
      socket.write(head.slice(0, 10));
      setTimeout(() => {
        socket.write(head.slice(10));
        for (let i = 0; i < body.length; i += 10_000) socket.write(body.subarray(i, i + 10_000));
      }, 20);
    });
    servers.push(store.server);
    const longLived = new AbortController();
    const object = await openObjectSocket(store.url, {
      range: 'bytes=5-99',
      bufferSize: 64 * 1024,
      signal: longLived.signal,
    });
    assert.equal(object.status, 206);
    assert.equal(object.contentLength, body.length);
    assert.equal(object.headers.get('etag'), '"x"');
    const { sink, bytes } = collect();
    assert.equal(await object.pipeTo(sink), body.length);
    assert.ok(bytes().equals(body));
    // A finished stream leaves nothing on a signal that outlives it (a whole build's).
    assert.equal(getEventListeners(longLived.signal, 'abort').length, 0);
    assert.match(store.requests[0] ?? '', /^GET \/bucket\/key\?X-Amz-Signature=abc HTTP\/1\.1\r\n/);
    assert.match(store.requests[0] ?? '', /\r\nRange: bytes=5-99\r\n/);
    assert.match(store.requests[0] ?? '', /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
  });

  it('serves a body that arrived together with the head', async () => {
    const store = await fakeStore((socket) =>
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello'),
    );
    servers.push(store.server);
    const object = await openObjectSocket(store.url);
    const { sink, bytes } = collect();
    assert.equal(await object.pipeTo(sink), 5);
    assert.equal(bytes().toString(), 'hello');
  });

  it('rejects error answers with the S3 error code', async () => {
    const xml = '<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>';
    const store = await fakeStore((socket) =>
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Length: ${xml.length}\r\n\r\n${xml}`),
    );
    servers.push(store.server);
    await assert.rejects(openObjectSocket(store.url), (error: unknown) => {
      assert.ok(error instanceof ObjectStoreHttpError);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'NoSuchKey');
      return true;
    });
  });

  it('rejects bodies without a Content-Length (chunked)', async () => {
    const store = await fakeStore((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
    );
    servers.push(store.server);
    await assert.rejects(openObjectSocket(store.url), /without a Content-Length/);
  });

  it('fails the body when the object store stops early', async () => {
    const store = await fakeStore((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      setTimeout(() => socket.end(Buffer.alloc(400)), 10);
    });
    servers.push(store.server);
    const object = await openObjectSocket(store.url);
    await assert.rejects(object.pipeTo(collect().sink), /before the body was complete/);
  });

  it('times out a silent object store', async () => {
    const store = await fakeStore((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n'),
    );
    servers.push(store.server);
    await assert.rejects(openObjectSocket(store.url, { idleTimeoutMs: 100 }), /did not answer/);
  });

  it('fails fast when the object store is down', async () => {
    const store = await fakeStore(() => undefined);
    store.server.close();
    await once(store.server, 'close');
    await assert.rejects(openObjectSocket(store.url), /ECONNREFUSED/);
  });

  it('closes the object-store connection when the client goes away', async () => {
    const store = await fakeStore((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n');
      const pump = () => {
        while (!socket.destroyed && socket.write(Buffer.alloc(64 * 1024)));
      };
      socket.on('drain', pump);
      pump();
    });
    servers.push(store.server);
    const abort = new AbortController();
    const object = await openObjectSocket(store.url, { signal: abort.signal });
    assert.equal(openObjectSocketCount(), 1);
    const client = new PassThrough({ highWaterMark: 1024 });
    const piping = object.pipeTo(client);
    client.once('data', () => {
      abort.abort();
      client.destroy();
    });
    await assert.rejects(piping, { name: 'AbortError' });
    await Promise.all(store.closed);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(openObjectSocketCount(), 0);
  });

  it('stops reading while a slow client catches up (bounded memory)', async () => {
    const size = 32 * 1024 * 1024;
    let sentByStore = 0;
    const store = await fakeStore((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
      const pump = () => {
        while (sentByStore < size && !socket.destroyed) {
          sentByStore += 256 * 1024;
          if (!socket.write(Buffer.alloc(256 * 1024))) return;
        }
      };
      socket.on('drain', pump);
      pump();
    });
    servers.push(store.server);
    const object = await openObjectSocket(store.url, { bufferSize: 256 * 1024 });
    let received = 0;
    let stalled = true;
    const slow = new Writable({
      highWaterMark: 256 * 1024,
      write(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (stalled) return; // the client stops reading altogether
        done();
      },
    });
    const piping = object.pipeTo(slow);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Kernel socket buffers plus at most a couple of read buffers: far below the 32 MiB object.
    assert.ok(received <= 1024 * 1024, `gateway took ${received} bytes ahead of the client`);
    assert.ok(sentByStore < size / 2, `object store sent ${sentByStore} bytes`);
    object.destroy();
    await assert.rejects(piping, { name: 'AbortError' });
    stalled = false;
  });

  it('abandons a client that stops reading, closing the object-store connection', async () => {
    const store = await fakeStore((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`);
      const pump = () => {
        while (!socket.destroyed && socket.write(Buffer.alloc(256 * 1024)));
      };
      socket.on('drain', pump);
      pump();
    });
    servers.push(store.server);
    const object = await openObjectSocket(store.url, {
      bufferSize: 256 * 1024,
      stallTimeoutMs: 200,
    });
    const stalled = new Writable({ highWaterMark: 64 * 1024, write: () => undefined });
    const started = Date.now();
    await assert.rejects(object.pipeTo(stalled), ClientStalledError);
    assert.ok(Date.now() - started >= 200);
    assert.ok(object.bytesWritten > 0, 'bytes handed over before the stall are counted');
    await Promise.all(store.closed);
  });

  it('keeps serving a slow client that keeps reading', async () => {
    const size = 4 * 1024 * 1024;
    const body = randomBytes(size);
    const store = await fakeStore((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
      socket.end(body);
    });
    servers.push(store.server);
    const object = await openObjectSocket(store.url, {
      bufferSize: 256 * 1024,
      stallTimeoutMs: 300,
    });
    const chunks: Buffer[] = [];
    // Takes each write after 50 ms: slow, but never 300 ms without progress.
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, done) {
        chunks.push(Buffer.from(chunk));
        setTimeout(done, 50);
      },
    });
    assert.equal(await object.pipeTo(slow), size);
    assert.ok(Buffer.concat(chunks).equals(body));
  });
});

describe('openObjectSocket over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'object-socket-tls-'));
  const { key, cert } = selfSignedCertificate(dir);
  const body = randomBytes(3 * 1024 * 1024);
  let server: TlsServer;
  let url: URL;

  before(async () => {
    server = createTlsServer({ key, cert }, (socket) => {
      socket.once('data', () => {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
        socket.end(body);
      });
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = new URL(`https://127.0.0.1:${(server.address() as { port: number }).port}/b/k?sig=1`);
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams the body from an https object store it trusts', async () => {
    const object = await openObjectSocket(url, { ca: cert });
    const { sink, bytes } = collect();
    assert.equal(await object.pipeTo(sink), body.length);
    assert.ok(bytes().equals(body));
  });

  it('refuses a certificate it does not trust', async () => {
    await assert.rejects(openObjectSocket(url), /self-signed certificate/);
  });
});

describe('parseResponseHead', () => {
  it('reads the status and folds repeated fields', () => {
    const head = parseResponseHead(
      'HTTP/1.1 206 Partial Content\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 9',
    );
    assert.equal(head.status, 206);
    assert.equal(head.headers.get('x-a'), '1, 2');
    assert.equal(head.headers.get('content-length'), '9');
  });
  it('rejects what is not HTTP/1.x', () => {
    assert.throws(() => parseResponseHead('SSH-2.0-OpenSSH'), /malformed status line/);
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nno colon'), /malformed header/);
  });
});
