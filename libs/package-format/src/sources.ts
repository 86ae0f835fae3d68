import * as fsp from 'node:fs/promises';
import { PackageFormatError, errorMessage, toPackageError } from './errors';

/**
 * Random-access bytes: a local file, a Buffer, or anything answering range requests (HTTP,
 * a content provider on a phone). The reader never asks for more than it needs, so reading a
 * package's header and manifest costs two `read` calls.
 */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes starting at `offset`; `offset + length <= size`. */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Optional allocation-free variant used by the streaming paths: fills `target[0, length)`
   * from `offset` and resolves to `length`.
   */
  readInto?(target: Buffer, offset: number, length: number): Promise<number>;
  close?(): Promise<void>;
}

function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`invalid range ${offset}+${length}`);
  }
  if (offset + length > size) {
    throw new PackageFormatError(
      'TRUNCATED',
      `read past end of source (${offset}+${length} > ${size})`,
    );
  }
}

export class FileSource implements ByteSource {
  private constructor(
    private readonly handle: fsp.FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  /** Wraps an already open handle (not closed by `close()` callers that do not own it). */
  static fromHandle(handle: fsp.FileHandle, size: number, path: string): FileSource {
    return new FileSource(handle, size, path);
  }

  static async open(path: string): Promise<FileSource> {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(path, 'r');
      const stat = await handle.stat();
      if (!stat.isFile()) throw new PackageFormatError('IO_ERROR', `${path} is not a regular file`);
      return new FileSource(handle, stat.size, path);
    } catch (err) {
      await handle?.close();
      throw toPackageError(err, `opening ${path}`);
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    await this.readInto(buf, offset, length);
    return buf;
  }

  async readInto(target: Buffer, offset: number, length: number): Promise<number> {
    checkRange(this.size, offset, length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        ({ bytesRead: n } = await this.handle.read(target, done, length - done, offset + done));
      } catch (err) {
        throw toPackageError(err, `reading ${this.path}`);
      }
      // The file shrank after we measured it.
      if (n === 0) throw new PackageFormatError('TRUNCATED', `${this.path} ended early`);
      done += n;
    }
    return length;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

export class BufferSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.length;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this.size, offset, length);
    // A view, not a copy; deliberately no readInto so streaming stays zero-copy.
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + offset, length);
  }
}

export interface HttpSourceOptions {
  /** Bytes fetched by the first request; 64 KiB usually covers header and manifest at once. */
  prefetch?: number;
  headers?: Record<string, string>;
  fetch?: typeof globalThis.fetch;
}

/**
 * A ByteSource over HTTP range requests (RFC 9110). The first request fetches the start of the
 * file and learns its size from Content-Range; later reads send `If-Match` with the ETag so a
 * package replaced mid-read fails instead of mixing bytes.
 */
export async function openHttpSource(
  url: string,
  options: HttpSourceOptions = {},
): Promise<ByteSource> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const prefetch = options.prefetch ?? 64 * 1024;

  async function rangeRequest(
    start: number,
    end: number,
    etag?: string,
  ): Promise<{ body: Buffer; total: number; etag?: string }> {
    let res: Response;
    try {
      res = await doFetch(url, {
        headers: {
          ...options.headers,
          Range: `bytes=${start}-${end}`,
          ...(etag ? { 'If-Match': etag } : {}),
        },
      });
    } catch (err) {
      throw new PackageFormatError('IO_ERROR', `GET ${url}: ${errorMessage(err)}`, { cause: err });
    }
    if (res.status !== 206) {
      await res.body?.cancel();
      throw new PackageFormatError(
        'IO_ERROR',
        `GET ${url} bytes=${start}-${end}: HTTP ${res.status} (range requests required)`,
      );
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
    const body = Buffer.from(await res.arrayBuffer());
    if (!m || Number(m[1]) !== start || body.length !== Number(m[2]) - start + 1) {
      throw new PackageFormatError('IO_ERROR', `GET ${url}: unexpected Content-Range`);
    }
    return { body, total: Number(m[3]), etag: res.headers.get('etag') ?? undefined };
  }

  const first = await rangeRequest(0, prefetch - 1);
  const head = first.body;
  return {
    size: first.total,
    async read(offset: number, length: number): Promise<Buffer> {
      checkRange(first.total, offset, length);
      if (length === 0) return Buffer.alloc(0);
      if (offset + length <= head.length) return head.subarray(offset, offset + length);
      const { body } = await rangeRequest(offset, offset + length - 1, first.etag);
      return body;
    },
  };
}

/** Reads `length` bytes through `readInto` when the source has it, else `read`. */
export async function readExact(
  source: ByteSource,
  offset: number,
  length: number,
  target?: Buffer,
): Promise<Buffer> {
  try {
    if (target && source.readInto) {
      await source.readInto(target, offset, length);
      return target.subarray(0, length);
    }
    const buf = await source.read(offset, length);
    if (buf.length !== length) {
      throw new PackageFormatError('TRUNCATED', `source returned ${buf.length} of ${length} bytes`);
    }
    return buf;
  } catch (err) {
    if (err instanceof PackageFormatError) throw err;
    // Anything a source throws is, from the package's point of view, an I/O failure.
    throw new PackageFormatError('IO_ERROR', `reading source: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/**
 * Fixed set of chunk buffers handed out in rotation. Sharing one ring across consecutive
 * ranges (e.g. all audio files of a package) keeps memory flat: buffers are never reallocated
 * per file, and the rotation continues across range boundaries so the validity guarantee of
 * `readChunks` holds there too.
 */
export class ChunkRing {
  private readonly buffers: Buffer[];
  private slot = 0;

  constructor(
    readonly chunkSize: number,
    count = 3,
    allocate: (size: number) => Buffer = (n) => Buffer.allocUnsafeSlow(n),
  ) {
    this.buffers = Array.from({ length: Math.max(2, count) }, () => allocate(chunkSize));
  }

  get size(): number {
    return this.buffers.length;
  }

  next(): Buffer {
    return this.buffers[this.slot++ % this.buffers.length];
  }
}

export interface ChunkOptions {
  chunkSize?: number;
  /**
   * Buffers to read into (default: a new ring of 3). A yielded chunk stays valid until
   * `ring.size - 1` further chunks have been pulled, so with 3 buffers a consumer may keep
   * one asynchronous write in flight.
   */
  ring?: ChunkRing;
}

export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * Streams `[start, end)` of a source in large chunks with one read always in flight, so I/O
 * overlaps the consumer's hashing. Memory is the ring's, regardless of the range size.
 */
export async function* readChunks(
  source: ByteSource,
  start: number,
  end: number,
  options: ChunkOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  const chunkSize = options.ring?.chunkSize ?? options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const ring = source.readInto
    ? (options.ring ?? new ChunkRing(Math.min(chunkSize, Math.max(end - start, 1))))
    : undefined;
  const issue = (pos: number): Promise<Buffer> => {
    const len = Math.min(chunkSize, end - pos);
    const p = readExact(source, pos, len, ring?.next());
    // Handled here so a failure while the consumer is busy is not an unhandled rejection;
    // the error still surfaces at the next `await pending`.
    p.catch(() => undefined);
    return p;
  };
  let pos = start;
  let pending: Promise<Buffer> | undefined = pos < end ? issue(pos) : undefined;
  try {
    while (pending) {
      const chunk = await pending;
      pos += chunk.length;
      pending = pos < end ? issue(pos) : undefined;
      yield chunk;
    }
  } finally {
    // Let an outstanding read finish before the ring buffers can be reused or dropped.
    if (pending) await pending.catch(() => undefined);
  }
}

/** FileHandle.write may write less than asked (e.g. near ENOSPC); loop until done. */
export async function writeFully(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}
