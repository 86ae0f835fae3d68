// Worker side of HashPool: keeps named SHA-256 states and feeds them views of shared memory,
// so the main thread can hash other streams (or do I/O) at the same time.
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export type HashRequest =
  | {
      kind: 'update';
      seq: number;
      ids: string[];
      buffer: ArrayBufferLike;
      offset: number;
      length: number;
    }
  | { kind: 'digest'; seq: number; id: string };

export interface HashReply {
  seq: number;
  hex?: string;
  error?: string;
}

const hashes = new Map<string, Hash>();

function handle(msg: HashRequest): HashReply {
  if (msg.kind === 'update') {
    const view = Buffer.from(msg.buffer, msg.offset, msg.length);
    for (const id of msg.ids) {
      let h = hashes.get(id);
      if (!h) hashes.set(id, (h = createHash('sha256')));
      h.update(view);
    }
    return { seq: msg.seq };
  }
  const h = hashes.get(msg.id) ?? createHash('sha256');
  hashes.delete(msg.id);
  return { seq: msg.seq, hex: h.digest('hex') };
}

parentPort?.on('message', (msg: HashRequest) => {
  let reply: HashReply;
  try {
    reply = handle(msg);
  } catch (err) {
    reply = { seq: msg.seq, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});
