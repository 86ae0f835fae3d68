import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { AppError, ErrorCode, encodeCursor, keysetPage, parseCursorParam } from '@bible/common';
import type { AuthUser } from '../auth/auth.types';
import { PgService, inTransaction } from './pg';
import {
  type AuthDecision,
  type ConflictRow,
  LOCK_CONFLICT_SQL,
  POSITION_AFTER_WRITE_SQL,
  type PositionRow,
  RESOLUTION_CONTEXT_SQL,
  RESOLVE_CONFLICT_SQL,
  type Row,
  WRITE_POLICIES,
  authorizeMutation,
  jsonEqual,
  listConflictsSql,
  resolutionWrite,
  lockRowsStatement,
  writeStatement,
} from '@bible/sync';
import type { ConflictsQuery, ResolveConflictBody } from './sync.schemas';

export function conflictView(c: ConflictRow) {
  return {
    conflictId: c.id,
    table: c.table_name,
    recordId: c.record_id,
    mutationId: c.mutation_id,
    baseVersion: c.base_version,
    serverVersion: c.server_version,
    clientData: c.client_data,
    serverData: c.server_data,
    resolution: c.resolution,
    resolvedData: c.resolved_data,
    createdAt: c.created_at.toISOString(),
    resolvedAt: c.resolved_at ? c.resolved_at.toISOString() : null,
  };
}

/** The caller's own conflicts: listed newest first, resolved once. */
@Injectable()
export class SyncConflictsService extends PgService {
  async list(user: AuthUser, query: ConflictsQuery) {
    const after = parseCursorParam(query.cursor);
    const { rows } = await this.pool.query<ConflictRow>(listConflictsSql(query.status), [
      user.id,
      after?.createdAt ?? null,
      after?.id ?? null,
      query.limit + 1,
    ]);
    return keysetPage(rows, query.limit, conflictView, (c) => ({
      createdAt: c.created_at_text,
      id: c.id,
    }));
  }

  /**
   * Resolves one of the caller's conflicts: `server_wins` keeps the server record, `client_wins`
   * writes the client's side, `merged` writes the given data. Writes follow the same allow-list
   * as pushes and are logged with change_source `conflict_resolution`.
   */
  async resolve(user: AuthUser, id: string, body: ResolveConflictBody) {
    return inTransaction(this.pool, async (client) => {
      await client.query(RESOLUTION_CONTEXT_SQL, [user.id]);
      const { rows } = await client.query<ConflictRow>(LOCK_CONFLICT_SQL, [id]);
      const conflict = rows[0];
      if (!conflict || conflict.user_id !== user.id) {
        throw new AppError(404, ErrorCode.NotFound, `Conflict ${id} not found`);
      }
      if (conflict.resolution) {
        throw new AppError(
          409,
          ErrorCode.Conflict,
          `Conflict ${id} is already resolved (${conflict.resolution})`,
        );
      }
      const write = resolutionWrite(
        body.resolution,
        conflict.client_data,
        body.resolution === 'merged' ? body.data : undefined,
      );
      let serverRecord = await this.lockRecord(client, conflict);
      const field = body.resolution === 'merged' ? 'body.data' : 'body.resolution';
      if (write.kind !== 'none') {
        if (!serverRecord) {
          throw new AppError(409, ErrorCode.Conflict, 'The record no longer exists on the server');
        }
        const record = serverRecord;
        const deleted = record.deleted_at !== null && record.deleted_at !== undefined;
        const table = conflict.table_name;
        let statement: ReturnType<typeof writeStatement> | null = null;
        let auth: AuthDecision = { kind: 'allow' };
        if (write.kind === 'delete') {
          if (!deleted) {
            auth = authorizeMutation(user.role, { table, operation: 'DELETE' });
            statement = writeStatement(table, conflict.record_id, 'delete', {});
          }
        } else {
          // Only what differs from the server is written (and authorised): restoring a deleted
          // record is a create, anything else an update of the changed columns.
          const changed = Object.fromEntries(
            Object.entries(write.set).filter(([k, v]) => !jsonEqual(v, record[k])),
          );
          if (deleted) {
            auth = authorizeMutation(user.role, { table, operation: 'INSERT', data: write.set });
            statement = writeStatement(table, conflict.record_id, 'undelete', changed);
          } else if (Object.keys(changed).length > 0) {
            auth = authorizeMutation(user.role, { table, operation: 'UPDATE', data: changed });
            statement = writeStatement(table, conflict.record_id, 'update', changed);
          }
        }
        if (auth.kind !== 'allow') {
          const message = auth.kind === 'reject' ? auth.message : auth.reason;
          throw new AppError(403, ErrorCode.Forbidden, `Cannot resolve: ${message}`, [
            { field, message },
          ]);
        }
        if (statement) {
          try {
            serverRecord = (await client.query<{ row: Row }>(statement.text, statement.values))
              .rows[0].row;
          } catch (error) {
            throw new AppError(
              400,
              ErrorCode.ValidationFailed,
              `The resolution cannot be written: ${(error as Error).message}`,
              [{ field, message: (error as Error).message }],
            );
          }
        }
      }
      const resolved = await client.query<ConflictRow>(RESOLVE_CONFLICT_SQL, [
        id,
        body.resolution,
        body.resolution === 'merged' ? JSON.stringify(body.data) : null,
        user.id,
      ]);
      const cursor = await this.cursorAfterWrite(client);
      return { conflict: conflictView(resolved.rows[0]), serverRecord, cursor };
    });
  }

  private async lockRecord(client: PoolClient, conflict: ConflictRow): Promise<Row | null> {
    if (!WRITE_POLICIES[conflict.table_name]) return null;
    const statement = lockRowsStatement(conflict.table_name, [conflict.record_id], true);
    const { rows } = await client.query<{ row: Row }>(statement.text, statement.values);
    return rows[0]?.row ?? null;
  }

  private async cursorAfterWrite(client: PoolClient): Promise<string> {
    const { rows } = await client.query<PositionRow>(POSITION_AFTER_WRITE_SQL);
    return encodeCursor(
      rows[0] ? { txid: BigInt(rows[0].txid), id: BigInt(rows[0].id) } : { txid: 0n, id: 0n },
    );
  }
}
