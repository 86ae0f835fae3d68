import { createHash, type Hash } from 'node:crypto';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-worker';

/**
 * One worker thread hashing some of the SHA-256 streams while the main thread hashes the
 * others. The format needs up to four independent hashes over the same bytes; on a 2-core
 * machine splitting them roughly halves the wall time. Chunks should live in
 * SharedArrayBuffer-backed Buffers (see `allocateShared`), otherwise postMessage copies them.
 */
export class HashPool {
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve(r: HashReply): void; reject(e: Error): void }
  >();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: HashReply) => {
      const p = this.pending.get(reply.seq);
      this.pending.delete(reply.seq);
      if (!p) return;
      if (reply.error) p.reject(new Error(`hash worker: ${reply.error}`));
      else p.resolve(reply);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`hash worker exited (${code})`)));
  }

  static create(): HashPool {
    return new HashPool(new Worker(path.join(__dirname, 'hash-worker.js')));
  }

  private request(msg: HashRequest): Promise<HashReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(msg.seq, { resolve, reject });
      this.worker.postMessage(msg);
    });
  }

  /** Feeds `chunk` to the named hashes; resolves once the worker no longer needs the bytes. */
  async update(ids: readonly string[], chunk: Buffer): Promise<void> {
    if (ids.length === 0 || chunk.length === 0) return;
    await this.request({
      kind: 'update',
      seq: ++this.seq,
      ids: [...ids],
      buffer: chunk.buffer,
      offset: chunk.byteOffset,
      length: chunk.length,
    });
  }

  async digest(id: string): Promise<string> {
    const reply = await this.request({ kind: 'digest', seq: ++this.seq, id });
    return reply.hex ?? '';
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

export function allocateShared(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

/** Below this many bytes a worker's start-up costs more than it saves. */
export const PARALLEL_HASH_THRESHOLD = 32 * 1024 * 1024;

/**
 * Named SHA-256 streams, each living on this thread or on the pool's worker. Callers mark
 * which ones are remote; `settle()` must be awaited before a chunk's buffer is reused.
 */
export class HashGroup {
  private readonly local = new Map<string, Hash>();
  private inflight: Promise<void>[] = [];

  constructor(private readonly pool: HashPool | undefined) {}

  get parallel(): boolean {
    return this.pool !== undefined;
  }

  update(id: string, chunk: Buffer, remote = false): void {
    if (remote && this.pool) {
      const p = this.pool.update([id], chunk);
      p.catch(() => undefined); // observed in settle()
      this.inflight.push(p);
      return;
    }
    let h = this.local.get(id);
    if (!h) this.local.set(id, (h = createHash('sha256')));
    h.update(chunk);
  }

  async settle(): Promise<void> {
    const all = this.inflight;
    this.inflight = [];
    await Promise.all(all);
  }

  /** Digest of a local hash without finishing it (SHA-256 state fork). */
  peek(id: string): string {
    return (this.local.get(id) ?? createHash('sha256')).copy().digest('hex');
  }

  async digest(id: string, remote = false): Promise<string> {
    if (remote && this.pool) return this.pool.digest(id);
    const h = this.local.get(id) ?? createHash('sha256');
    this.local.delete(id);
    return h.digest('hex');
  }
}
