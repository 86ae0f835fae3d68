import { Injectable } from '@nestjs/common';
import {
  AppError,
  ErrorCode,
  FEED_START,
  type FeedPosition,
  comparePositions,
  decodeCursor,
  encodeCursor,
} from '@bible/common';
import type { AuthUser } from '../auth/auth.types';
import {
  COUNT_DOWNLOADS_SQL,
  type CheckRow,
  FEED_CHECK_SQL,
  type PageRow,
  type ScopeColumn,
  pageSql,
} from '@bible/sync';
import { PgService } from './pg';
import { cursorRejectionsTotal, pullChangesTotal, pullDuration } from './sync-metrics';
import type { PullQuery } from './sync.schemas';

export interface PullPage {
  /** The response body, assembled around the JSON array Postgres built (no re-serialisation). */
  body: string;
  count: number;
  nextCursor: string;
  hasMore: boolean;
}

/**
 * The pull side of sync: pages of change_log in one or two scopes, in (txid, id) order and only
 * below the oldest running transaction, so a cursor never passes a change that commits later.
 */
@Injectable()
export class SyncFeedService extends PgService {
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
      const updated = await this.pool.query(COUNT_DOWNLOADS_SQL, [query.sessionId, user.id, count]);
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
    const { rows } = await this.pool.query<CheckRow>(FEED_CHECK_SQL, [textId, audioId]);
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
