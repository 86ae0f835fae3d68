import type { EventPosition } from './cursor';
import { type Queryable, rowsOf } from './record';
import type { EventType, StoredEvent } from './types';

export interface ReadEventsOptions {
  /** Exclusive; from the start of the retained feed when absent. */
  after?: EventPosition | null;
  /** Only these types (all when absent or empty). */
  types?: readonly EventType[];
  limit: number;
}

interface EventRow {
  id: string;
  seq: string;
  txid: string;
  type: EventType;
  data: Record<string, unknown>;
  user_id: string | null;
  trace: StoredEvent['trace'];
  created_at: Date;
}

/**
 * Events after a position in (txid, seq) order, only below `change_log_safe_xmin()`: every
 * transaction under that horizon has ended, so no event can still appear behind the returned
 * position (the feed is gap-free, as the change feed is).
 */
export async function readEvents(
  db: Queryable,
  options: ReadEventsOptions,
): Promise<StoredEvent[]> {
  const after = options.after ?? { txid: 0n, seq: 0n };
  const types = options.types && options.types.length > 0 ? [...options.types] : null;
  const result = await db.query(
    // Qualified: unqualified names in ORDER BY would sort by the text output columns.
    `SELECT e.id, e.seq::text, e.txid::text, e.type, e.data, e.user_id, e.trace, e.created_at
       FROM events e
      WHERE (e.txid, e.seq) > ($1::bigint, $2::bigint) AND e.txid < change_log_safe_xmin()
        AND ($3::text[] IS NULL OR e.type = ANY($3::text[]))
      ORDER BY e.txid, e.seq
      LIMIT $4`,
    [after.txid.toString(), after.seq.toString(), types, options.limit],
  );
  return rowsOf<EventRow>(result).map((r) => ({
    id: r.id,
    seq: r.seq,
    txid: r.txid,
    type: r.type,
    data: r.data,
    userId: r.user_id,
    trace: r.trace,
    createdAt: r.created_at,
  }));
}

export function positionOfEvent(event: Pick<StoredEvent, 'txid' | 'seq'>): EventPosition {
  return { txid: BigInt(event.txid), seq: BigInt(event.seq) };
}
