import type { ChangeEventJob, FeedPosition } from '@bible/common';

/** One change_log row as the relay reads it. */
export interface FeedRow {
  txid: string;
  id: string;
  table_name: string;
  record_id: string;
  audio_version_id: string | null;
  text_version_id: string | null;
  changed_at: Date;
}

export type ScopeColumn = 'audio_version_id' | 'text_version_id';

/** A scope touched by a batch and the newest position of the batch in it. */
export interface InvalidationTarget {
  col: ScopeColumn;
  scope_id: string;
  txid: string;
  id: string;
}

export const RELAY_NAME = 'change-events';

export function positionOf(row: Pick<FeedRow, 'txid' | 'id'>): FeedPosition {
  return { txid: BigInt(row.txid), id: BigInt(row.id) };
}

/** BullMQ job id of a change: its feed position, so publishing a change twice enqueues it once. */
export function jobIdOf(row: Pick<FeedRow, 'txid' | 'id'>): string {
  return `cl-${row.txid}-${row.id}`;
}

export function jobOf(row: FeedRow): { name: string; data: ChangeEventJob; jobId: string } {
  return {
    name: 'change',
    data: { position: `${row.txid}:${row.id}`, table: row.table_name, recordId: row.record_id },
    jobId: jobIdOf(row),
  };
}

/**
 * The scopes a batch of changes touches, each with the batch's newest position in it. Package
 * generations of those scopes built at an older content revision are stale.
 */
export function invalidationTargets(rows: readonly FeedRow[]): InvalidationTarget[] {
  const newest = new Map<string, InvalidationTarget>();
  const touch = (col: ScopeColumn, scopeId: string | null, row: FeedRow) => {
    if (!scopeId) return;
    const k = `${col}\u0000${scopeId}`;
    const seen = newest.get(k);
    const position = positionOf(row);
    if (
      !seen ||
      position.txid > BigInt(seen.txid) ||
      (position.txid === BigInt(seen.txid) && position.id > BigInt(seen.id))
    ) {
      newest.set(k, { col, scope_id: scopeId, txid: row.txid, id: row.id });
    }
  };
  for (const row of rows) {
    touch('audio_version_id', row.audio_version_id, row);
    touch('text_version_id', row.text_version_id, row);
  }
  return [...newest.values()].sort((a, b) =>
    (a.col + a.scope_id).localeCompare(b.col + b.scope_id),
  );
}

/** Seconds between a change's write and `nowMs` (never negative: clocks are one server's). */
export function lagSeconds(changedAt: Date, nowMs: number): number {
  return Math.max(0, (nowMs - changedAt.getTime()) / 1000);
}

/** Exponential backoff for a failing relay loop: 250 ms doubling up to 10 s. */
export function backoffMs(failures: number): number {
  return Math.min(10_000, 250 * 2 ** Math.max(0, failures - 1));
}
