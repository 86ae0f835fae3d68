/**
 * A position in the change feed: change_log rows are ordered by (txid, id) and only read below the
 * oldest running transaction, so a cursor never skips a row committed out of order.
 */
export interface FeedPosition {
  txid: bigint;
  id: bigint;
}

export const FEED_START: FeedPosition = { txid: 0n, id: 0n };

const PREFIX = 'c1';

/** Opaque to clients: `base64url("c1:<txid>:<id>")`. */
export function encodeCursor(position: FeedPosition): string {
  return Buffer.from(`${PREFIX}:${position.txid}:${position.id}`).toString('base64url');
}

/** Returns null for anything that is not a cursor this server minted (the caller answers 409). */
export function decodeCursor(cursor: string): FeedPosition | null {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(cursor)) return null;
  const match = /^c1:(\d{1,19}):(\d{1,19})$/.exec(
    Buffer.from(cursor, 'base64url').toString('utf8'),
  );
  if (!match) return null;
  const position = { txid: BigInt(match[1]), id: BigInt(match[2]) };
  const max = 2n ** 63n - 1n;
  return position.txid <= max && position.id <= max ? position : null;
}

export function comparePositions(a: FeedPosition, b: FeedPosition): number {
  if (a.txid !== b.txid) return a.txid < b.txid ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** The content revision string recorded in manifests and package_generations. */
export function revisionOf(position: FeedPosition): string {
  return `${position.txid}.${position.id}`;
}

export function parseRevision(revision: string): FeedPosition | null {
  const match = /^(\d{1,19})\.(\d{1,19})$/.exec(revision);
  return match ? { txid: BigInt(match[1]), id: BigInt(match[2]) } : null;
}
