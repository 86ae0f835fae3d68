import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Transform, type TransformCallback } from 'node:stream';

/** Raised by the meter when a body passes the size limit. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads at least `bytes` bytes (fewer if the stream ends first) without consuming them for later
 * readers: the bytes are pushed back (`unshift`), so piping the stream afterwards still delivers
 * every byte.
 */
export async function peek(stream: Readable, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < bytes) {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      size += chunk.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        stream.off('readable', done);
        stream.off('end', done);
        stream.off('error', failed);
        stream.off('close', done);
        resolve();
      };
      const failed = (error: Error) => {
        done();
        reject(error);
      };
      stream.once('readable', done);
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', failed);
    });
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) stream.unshift(head);
  return head;
}

/**
 * Pass-through that counts and hashes the bytes and fails with BodyTooLargeError as soon as they
 * pass `limit`, so an oversize body is cut off mid-stream instead of being stored.
 */
export class MeteredStream extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  /** `inspect` sees every byte too (e.g. an integrity check). */
  constructor(
    private readonly limit: number,
    private readonly inspect?: (chunk: Buffer) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(new BodyTooLargeError(this.limit));
      return;
    }
    this.hash.update(chunk);
    this.inspect?.(chunk);
    callback(null, chunk);
  }

  /** Hex sha256 of everything that passed (call once, after the end). */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Reads a whole text body up to `limit` bytes (for CSV timings). */
export async function readText(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
