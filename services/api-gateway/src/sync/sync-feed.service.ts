import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import {
  AppError,
  DATA_SOURCE,
  ErrorCode,
  FEED_START,
  type FeedPosition,
  comparePositions,
  decodeCursor,
  encodeCursor,
} from '@bible/common';
import type { AuthUser } from '../auth/auth.types';
import { pgPool } from './pg';
import { cursorRejectionsTotal, pullChangesTotal, pullDuration } from './sync-metrics';
import type { PullQuery } from './sync.schemas';

export interface PullPage {
  /** The response body, assembled around the JSON array Postgres built (no re-serialisation). */
  body: string;
  count: number;
  nextCursor: string;
  hasMore: boolean;
}

type ScopeColumn = 'audio_version_id' | 'text_version_id';

interface CheckRow {
  next_txid: string;
  last_id: string | null;
  horizons: { col: ScopeColumn; txid: string; id: string }[] | null;
  text_status: string | null;
  text_deleted: boolean | null;
  audio_status: string | null;
  audio_deleted: boolean | null;
}

interface PageRow {
  fetched: number;
  last_txid: string | null;
  last_id: string | null;
  changes: string;
}

const CHANGE_COLUMNS = `txid, id, table_name, record_id, operation, new_data, record_version, changed_at`;

/** One scope's keyset scan: served by idx_change_log_<scope>_txid_id, stops below the safe xmin. */
function scopeScan(column: ScopeColumn, param: string): string {
  return `(SELECT ${CHANGE_COLUMNS} FROM change_log
            WHERE ${column} = ${param} AND (txid, id) > ($1::bigint, $2::bigint) AND txid < (SELECT x FROM safe)
            ORDER BY txid, id LIMIT $3::int + 1)`;
}

export function pageSql(scopes: ScopeColumn[]): string {
  const scans = scopes.map((column) =>
    scopeScan(column, column === 'text_version_id' ? '$4' : '$5'),
  );
  const raw =
    scans.length === 1
      ? scans[0]
      : `(SELECT * FROM (${scans.join(' UNION ALL ')}) u ORDER BY txid, id LIMIT $3::int + 1)`;
  return `
WITH safe AS (SELECT change_log_safe_xmin() AS x, $4::text AS text_scope, $5::text AS audio_scope),
raw AS ${raw},
page AS (SELECT * FROM raw ORDER BY txid, id LIMIT $3::int),
last AS (SELECT txid, id FROM page ORDER BY txid DESC, id DESC LIMIT 1)
SELECT (SELECT count(*) FROM raw)::int AS fetched,
       (SELECT txid::text FROM last) AS last_txid,
       (SELECT id::text FROM last) AS last_id,
       (SELECT coalesce(json_agg((SELECT c FROM (SELECT p.table_name AS "table", p.record_id AS "recordId",
                   p.operation AS operation, CASE WHEN p.operation = 'DELETE' THEN NULL ELSE p.new_data END AS data,
                   p.record_version AS version, p.changed_at AS "changedAt") c) ORDER BY p.txid, p.id), '[]'::json)
          FROM page p)::text AS changes`;
}

/**
 * The pull side of sync: pages of change_log in one or two scopes, in (txid, id) order and only
 * below the oldest running transaction, so a cursor never passes a change that commits later.
 */
@Injectable()
export class SyncFeedService {
  private readonly pool: Pool;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.pool = pgPool(dataSource);
  }

  async pull(user: AuthUser, query: PullQuery): Promise<PullPage> {
    const end = pullDuration.startTimer();
    const position = query.cursor === undefined ? FEED_START : decodeCursor(query.cursor);
    if (!position) throw cursorInvalid('malformed', 'The cursor is not one this server issued');
    const scopes: ScopeColumn[] = [];
    if (query.textVersionId) scopes.push('text_version_id');
    if (query.audioVersionId) scopes.push('audio_version_id');
    const textId = query.textVersionId ?? null;
    const audioId = query.audioVersionId ?? null;

    await this.check(user, position, textId, audioId);

    const { rows } = await this.pool.query<PageRow>(pageSql(scopes), [
      position.txid.toString(),
      position.id.toString(),
      query.limit,
      textId,
      audioId,
    ]);
    const page = rows[0];
    const count = Math.min(page.fetched, query.limit);
    const hasMore = page.fetched > query.limit;
    const next =
      page.last_txid !== null && page.last_id !== null
        ? encodeCursor({ txid: BigInt(page.last_txid), id: BigInt(page.last_id) })
        : (query.cursor ?? encodeCursor(FEED_START));

    if (query.sessionId) {
      const updated = await this.pool.query(
        `UPDATE sync_sessions SET changes_downloaded = changes_downloaded + $3
          WHERE id = $1 AND user_id = $2 AND status = 'active'`,
        [query.sessionId, user.id, count],
      );
      if (updated.rowCount === 0) {
        throw new AppError(
          404,
          ErrorCode.NotFound,
          `Active sync session ${query.sessionId} not found`,
        );
      }
    }
    pullChangesTotal.inc(count);
    end();
    return {
      body: `{"changes":${page.changes},"nextCursor":${JSON.stringify(next)},"hasMore":${hasMore}}`,
      count,
      nextCursor: next,
      hasMore,
    };
  }

  /**
   * One round trip: the versions exist (and are published, for plain users); the cursor is not
   * from the future (another database, or forged) and not below a scope's retention horizon.
   */
  private async check(
    user: AuthUser,
    position: FeedPosition,
    textId: string | null,
    audioId: string | null,
  ) {
    const { rows } = await this.pool.query<CheckRow>(
      `SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next_txid,
              (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM change_log_id_seq)::text AS last_id,
              (SELECT json_agg(json_build_object('col', scope_column, 'txid', txid::text, 'id', change_id::text))
                 FROM change_log_horizons
                WHERE (scope_column = 'text_version_id' AND scope_id = $1)
                   OR (scope_column = 'audio_version_id' AND scope_id = $2)) AS horizons,
              tv.publish_status AS text_status, tv.deleted_at IS NOT NULL AS text_deleted,
              av.publish_status AS audio_status, av.deleted_at IS NOT NULL AS audio_deleted
         FROM (SELECT 1) one
         LEFT JOIN text_versions tv ON tv.id = $1
         LEFT JOIN audio_versions av ON av.id = $2`,
      [textId, audioId],
    );
    const row = rows[0];
    const visible = (status: string | null, deleted: boolean | null) =>
      status !== null && (user.role !== 'user' || (status === 'published' && !deleted));
    if (textId && !visible(row.text_status, row.text_deleted)) {
      throw new AppError(404, ErrorCode.NotFound, `Text version ${textId} not found`);
    }
    if (audioId && !visible(row.audio_status, row.audio_deleted)) {
      throw new AppError(404, ErrorCode.NotFound, `Audio version ${audioId} not found`);
    }
    if (position.txid >= BigInt(row.next_txid) || position.id > BigInt(row.last_id ?? '0')) {
      throw cursorInvalid('future', 'The cursor points past the end of this server’s change feed');
    }
    for (const horizon of row.horizons ?? []) {
      if (comparePositions(position, { txid: BigInt(horizon.txid), id: BigInt(horizon.id) }) < 0) {
        throw cursorInvalid(
          'expired',
          'The cursor is older than the retained change feed; resync from a package',
        );
      }
    }
  }
}

function cursorInvalid(reason: 'malformed' | 'future' | 'expired', message: string): AppError {
  cursorRejectionsTotal.inc({ reason });
  return new AppError(409, ErrorCode.SyncCursorInvalid, message, [
    { field: 'query.cursor', message: reason },
  ]);
}
