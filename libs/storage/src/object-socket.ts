import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, rootCertificates, connect as tlsConnect } from 'node:tls';
import type { Writable } from 'node:stream';

/**
 * One object-store GET read straight off a socket into pooled buffers (`net.Socket` `onread`).
 *
 * Why not the SDK or `http.request`: Node's HTTP client reads 64 KiB at a time, allocates a buffer
 * per read and runs every chunk through its parser and stream machinery. On a 2-core machine that
 * made a 1 GiB gateway pass-through ~3× slower than a direct GET; reading up to 1 MiB per syscall
 * into reused buffers and writing them on as they are is within ~25 % of it (docs/benchmarks.md).
 * The URL is presigned by the SDK (see open-object.ts), so authentication stays the SDK's job;
 * this only speaks HTTP/1.1 for one GET with a `Content-Length` body, which is what S3 and
 * S3-compatible stores answer. A buffer handed to `dest.write` goes back to the pool in that
 * write's callback, so a destination must not keep a reference to it after calling back.
 */
export interface ObjectSocketOptions {
  /** Sent as the `Range` header (e.g. `bytes=0-99`); unsigned headers are allowed on presigned URLs. */
  range?: string;
  /** Aborts the connection (client went away, shutdown). */
  signal?: AbortSignal;
  /**
   * Bytes per read; each open stream holds one or two. Defaults to 1 MiB while few streams are
   * open (throughput) and 128 KiB under many concurrent downloads (memory).
   */
  bufferSize?: number;
  connectTimeoutMs?: number;
  /** Extra trusted CA certificates for https object stores (system CAs and NODE_EXTRA_CA_CERTS apply). */
  ca?: string | Buffer;
  /** Longest wait for the next upstream bytes while the client is keeping up. */
  idleTimeoutMs?: number;
  /**
   * Longest wait for a client that has stopped reading: past it the download is abandoned, so a
   * stalled client cannot hold an object-store connection indefinitely. 0 waits forever.
   */
  stallTimeoutMs?: number;
}

export class ClientStalledError extends Error {
  constructor(ms: number) {
    super(`client read nothing for ${ms} ms`);
    this.name = 'ClientStalledError';
  }
}

export class ObjectStoreHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(`object store answered ${status}${code ? ` ${code}` : ''}`);
    this.name = 'ObjectStoreHttpError';
  }
}

export interface ObjectSocketResponse {
  status: number;
  headers: ReadonlyMap<string, string>;
  contentLength: number;
  /** Writes the body into `dest` with backpressure and ends it; resolves with the bytes written. */
  pipeTo(dest: Writable): Promise<number>;
  /** Body bytes handed to `dest` so far (also after a failure, for metering). */
  readonly bytesWritten: number;
  /** Drops the connection (e.g. the response is not wanted after all). */
  destroy(): void;
}

const MAX_HEAD_BYTES = 64 * 1024;
const LARGE_BUFFER = 1024 * 1024;
const SMALL_BUFFER = 128 * 1024;
/** Beyond this many open streams new ones read with small buffers. */
const LARGE_BUFFER_STREAMS = 8;

/**
 * Process-wide free lists of read buffers: a buffer comes back once its bytes are flushed to the
 * client, so steady-state downloads allocate nothing and the garbage collector stays quiet.
 */
const pools = new Map<number, Buffer[]>([
  [LARGE_BUFFER, []],
  [SMALL_BUFFER, []],
]);
const MAX_POOLED_BYTES = 16 * 1024 * 1024;
let openStreams = 0;

/** Object-store sockets currently open in this process (connecting, streaming or closing). */
export function openObjectSocketCount(): number {
  return openStreams;
}

function takeBuffer(size: number): Buffer {
  return pools.get(size)?.pop() ?? Buffer.allocUnsafe(size);
}

function giveBuffer(buffer: Buffer): void {
  const pool = pools.get(buffer.length);
  if (pool && (pool.length + 1) * buffer.length <= MAX_POOLED_BYTES) pool.push(buffer);
}
const HEAD_END = Buffer.from('\r\n\r\n');

interface ParsedHead {
  status: number;
  headers: Map<string, string>;
}

/** Parses an HTTP/1.x response head (status line and header fields, without the blank line). */
export function parseResponseHead(head: string): ParsedHead {
  const lines = head.split('\r\n');
  const statusMatch = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!statusMatch) throw new Error(`malformed status line from object store: ${lines[0]}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line from object store: ${line}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { status: Number(statusMatch[1]), headers };
}

/**
 * Opens `url` and resolves once the response head has arrived. Non-2xx answers reject with
 * {@link ObjectStoreHttpError} (S3 error code included when the body carries one).
 */
export function openObjectSocket(
  url: URL,
  options: ObjectSocketOptions = {},
): Promise<ObjectSocketResponse> {
  return new ObjectSocketStream(url, options).opened;
}

class ObjectSocketStream {
  readonly opened: Promise<ObjectSocketResponse>;
  private readonly socket: Socket;
  private readonly bufferSize: number;
  private readonly idleTimeoutMs: number;
  private readonly stallTimeoutMs: number;
  private stallTimer?: NodeJS.Timeout;
  private detachSignal?: () => void;
  private headChunks: Buffer[] = [];
  private headBytes = 0;
  private headDone = false;
  private errorBody?: { status: number; chunks: Buffer[]; bytes: number };
  /** Body bytes that arrived with the head, before `pipeTo` attached a destination. */
  private early: Buffer[] = [];
  private contentLength = 0;
  private received = 0;
  private written = 0;
  /** Every body byte has been read (the socket is closed on purpose). */
  private complete = false;
  private settled = false;
  private dest?: Writable;
  private resolveOpen!: (response: ObjectSocketResponse) => void;
  private rejectOpen!: (error: Error) => void;
  private resolveBody?: (written: number) => void;
  private rejectBody?: (error: Error) => void;

  constructor(url: URL, options: ObjectSocketOptions) {
    this.bufferSize =
      options.bufferSize ?? (openStreams < LARGE_BUFFER_STREAMS ? LARGE_BUFFER : SMALL_BUFFER);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
    this.opened = new Promise((resolve, reject) => {
      this.resolveOpen = resolve;
      this.rejectOpen = reject;
    });
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') {
      throw new Error(`unsupported object-store protocol ${url.protocol}`);
    }
    const onread = {
      buffer: () => takeBuffer(this.bufferSize),
      callback: (bytes: number, buffer: Uint8Array) => this.onRead(bytes, buffer as Buffer),
    };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (secure ? 443 : 80));
    // `onread` is a net.Socket option that tls.connect passes through (not in its typings).
    this.socket = secure
      ? tlsConnect({
          host,
          port,
          // SNI carries host names only (RFC 6066); certificates are still checked against IPs.
          servername: isIP(host) ? undefined : host,
          ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
          onread,
        } as ConnectionOptions)
      : netConnect({ host, port, onread });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(options.connectTimeoutMs ?? 5_000);
    this.socket.on('timeout', () =>
      this.fail(new Error(`object store ${url.host} did not answer within the timeout`)),
    );
    this.socket.on('error', (error) => this.fail(error));
    openStreams++;
    this.socket.on('close', () => {
      openStreams--;
      if (this.errorBody) this.failWithErrorBody();
      else if (!this.complete)
        this.fail(new Error('object store closed the connection before the body was complete'));
    });
    this.socket.once(secure ? 'secureConnect' : 'connect', () => {
      this.socket.setTimeout(this.idleTimeoutMs);
      const range = options.range ? `Range: ${options.range}\r\n` : '';
      this.socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${range}` +
          `Accept-Encoding: identity\r\nConnection: close\r\n\r\n`,
      );
    });
    const signal = options.signal;
    if (signal?.aborted) this.fail(abortError());
    else if (signal) {
      // Removed once settled: a long-lived signal (a whole build's) must not keep every finished
      // stream, and the read buffer its socket still holds, reachable.
      const onAbort = () => this.fail(abortError());
      signal.addEventListener('abort', onAbort, { once: true });
      this.detachSignal = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /** The `onread` callback: returning false stops reading until `socket.resume()`. */
  private onRead(bytes: number, buffer: Buffer): boolean {
    if (this.settled || this.complete) return false;
    if (!this.headDone) {
      // Head bytes are copied so the read buffer can go straight back to the pool.
      const copy = Buffer.from(buffer.subarray(0, bytes));
      giveBuffer(buffer);
      return this.readHead(copy);
    }
    const take = Math.min(bytes, this.contentLength - this.received);
    this.received += take;
    const flowing = this.write(buffer.subarray(0, take), buffer);
    if (this.received >= this.contentLength) {
      this.finishReading();
      this.endDest();
      return false;
    }
    if (!flowing) {
      // The client is slower than the object store: stop reading (bounded memory) and do not
      // count the client's pace against the object store's idle timeout.
      this.pause();
      return false;
    }
    return true;
  }

  private readHead(chunk: Buffer): boolean {
    if (this.errorBody) {
      this.errorBody.chunks.push(chunk);
      this.errorBody.bytes += chunk.length;
      if (this.errorBody.bytes >= MAX_HEAD_BYTES) this.failWithErrorBody();
      return true;
    }
    this.headChunks.push(chunk);
    this.headBytes += chunk.length;
    const all = this.headChunks.length === 1 ? chunk : Buffer.concat(this.headChunks);
    const end = all.indexOf(HEAD_END);
    if (end < 0) {
      if (this.headBytes > MAX_HEAD_BYTES)
        this.fail(new Error('object-store response head too large'));
      return true;
    }
    this.headChunks = [];
    let head: ParsedHead;
    try {
      head = parseResponseHead(all.subarray(0, end).toString('latin1'));
    } catch (error) {
      this.fail(error as Error);
      return false;
    }
    const rest = all.subarray(end + HEAD_END.length);
    if (head.status < 200 || head.status > 299) {
      this.errorBody = { status: head.status, chunks: [rest], bytes: rest.length };
      const length = Number(head.headers.get('content-length'));
      if (Number.isFinite(length) && rest.length >= length) this.failWithErrorBody();
      return true;
    }
    const length = head.headers.get('content-length') ?? '';
    if (head.headers.has('transfer-encoding') || !/^\d+$/.test(length)) {
      this.fail(new Error('object store answered without a Content-Length body'));
      return false;
    }
    this.headDone = true;
    this.contentLength = Number(length);
    const body = rest.subarray(0, this.contentLength);
    if (body.length > 0) this.early.push(body);
    this.received = body.length;
    if (this.received >= this.contentLength) this.finishReading();
    else this.pause(); // until pipeTo
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- read by the getter below
    const stream = this;
    this.resolveOpen({
      status: head.status,
      headers: head.headers,
      contentLength: this.contentLength,
      pipeTo: (dest) => this.pipeTo(dest),
      destroy: () => this.fail(abortError()),
      get bytesWritten() {
        return stream.written;
      },
    });
    return false;
  }

  private failWithErrorBody(): void {
    const body = this.errorBody;
    if (!body) return;
    const text = Buffer.concat(body.chunks).toString('utf8');
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    this.fail(new ObjectStoreHttpError(body.status, code));
  }

  private pipeTo(dest: Writable): Promise<number> {
    if (this.dest) return Promise.reject(new Error('pipeTo may be called once'));
    this.dest = dest;
    const body = new Promise<number>((resolve, reject) => {
      this.resolveBody = resolve;
      this.rejectBody = reject;
    });
    if (this.settled) return Promise.reject(abortError());
    dest.once('close', () => {
      if (!dest.writableFinished) this.fail(abortError());
    });
    dest.once('error', (error: Error) => this.fail(error));
    let flowing = true;
    for (const chunk of this.early) flowing = this.write(chunk, undefined) && flowing;
    this.early = [];
    if (this.complete) this.endDest();
    else if (flowing) this.resume();
    else this.pause();
    return body;
  }

  private write(chunk: Buffer, buffer: Buffer | undefined): boolean {
    this.written += chunk.length;
    return (this.dest as Writable).write(chunk, () => {
      if (buffer) giveBuffer(buffer);
    });
  }

  private pause(): void {
    this.socket.setTimeout(0);
    if (!this.dest) return; // pipeTo resumes
    this.dest.once('drain', () => this.resume());
    if (this.stallTimeoutMs > 0) {
      this.stallTimer = setTimeout(
        () => this.fail(new ClientStalledError(this.stallTimeoutMs)),
        this.stallTimeoutMs,
      );
    }
  }

  private resume(): void {
    clearTimeout(this.stallTimer);
    if (this.settled || this.complete) return;
    this.socket.setTimeout(this.idleTimeoutMs);
    this.socket.resume();
  }

  private finishReading(): void {
    this.complete = true;
    // The connection is not reused (Connection: close), so it is closed as soon as the body is in.
    this.socket.destroy();
  }

  private endDest(): void {
    (this.dest as Writable).end(() => {
      if (this.settled) return;
      this.settled = true;
      this.detachSignal?.();
      this.resolveBody?.(this.written);
    });
  }

  private fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.stallTimer);
    this.detachSignal?.();
    this.socket.destroy();
    this.rejectOpen(error);
    this.rejectBody?.(error);
  }
}

function abortError(): Error {
  const error = new Error('object-store stream aborted');
  error.name = 'AbortError';
  return error;
}
