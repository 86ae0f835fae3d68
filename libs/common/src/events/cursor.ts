/** Position of an event in the feed: events are ordered by (txid, seq). */
export interface EventPosition {
  txid: bigint;
  seq: bigint;
}

const PREFIX = 'e1';
const MAX = 2n ** 63n - 1n;

/** Opaque to consumers: `base64url("e1:<txid>:<seq>")`. */
export function encodeEventCursor(position: EventPosition): string {
  return Buffer.from(`${PREFIX}:${position.txid}:${position.seq}`).toString('base64url');
}

/** Null for anything that is not a cursor this server minted (the caller answers 400). */
export function decodeEventCursor(cursor: string): EventPosition | null {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(cursor)) return null;
  const match = /^e1:(\d{1,19}):(\d{1,19})$/.exec(
    Buffer.from(cursor, 'base64url').toString('utf8'),
  );
  if (!match) return null;
  const position = { txid: BigInt(match[1]), seq: BigInt(match[2]) };
  return position.txid <= MAX && position.seq <= MAX ? position : null;
}
