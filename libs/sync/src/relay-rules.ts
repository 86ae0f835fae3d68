import {
  type ContentChangedData,
  type FeedPosition,
  type NewEventOf,
  comparePositions,
  encodeCursor,
} from '@bible/common';
import type { FeedRow } from './rows';

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

const OPERATION_KEY = { INSERT: 'inserted', UPDATE: 'updated', DELETE: 'deleted' } as const;

/**
 * One `content.changed` per scope (text or audio version) the batch touches, never one per
 * change: the revision range (`fromRevision` is the relay position before the batch, a sync
 * cursor to pull the batch's changes after; `toRevision` the scope's last change in it), counts
 * per table and operation, and the books touched. Scopes in a stable order.
 */
export function contentChangedEvents(
  rows: readonly FeedRow[],
  from: FeedPosition,
): NewEventOf<'content.changed'>[] {
  const scopes = new Map<
    string,
    { data: ContentChangedData; last: FeedPosition; books: Set<string> }
  >();
  const touch = (scope: 'text' | 'audio', versionId: string | null, row: FeedRow) => {
    if (!versionId) return;
    const k = `${scope}\u0000${versionId}`;
    let entry = scopes.get(k);
    if (!entry) {
      entry = {
        data: {
          scope,
          versionId,
          fromRevision: encodeCursor(from),
          toRevision: '',
          counts: {},
          bookIds: [],
          changeCount: 0,
        },
        last: from,
        books: new Set(),
      };
      scopes.set(k, entry);
    }
    const counts = (entry.data.counts[row.table_name] ??= { inserted: 0, updated: 0, deleted: 0 });
    counts[OPERATION_KEY[row.operation]]++;
    entry.data.changeCount++;
    if (row.book_id) entry.books.add(row.book_id);
    const position = positionOf(row);
    if (comparePositions(position, entry.last) > 0) entry.last = position;
  };
  for (const row of rows) {
    touch('text', row.text_version_id, row);
    touch('audio', row.audio_version_id, row);
  }
  return [...scopes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, e]) => ({
      type: 'content.changed',
      data: { ...e.data, toRevision: encodeCursor(e.last), bookIds: [...e.books].sort() },
    }));
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
