import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  AppError,
  advisoryLocks,
  ErrorCode,
  type SyncQueueStatus,
  encodeCursor,
  getLogger,
  recordEvents,
} from '@bible/common';
import type { AuthUser } from '../auth/auth.types';
import { PgService, inTransaction } from './pg';
import { pushDuration, pushMutationsTotal } from './sync-metrics';
import {
  type ConflictInsert,
  type Decision,
  HEAD_POSITION_SQL,
  LOCK_QUEUE_SQL,
  type MutationResult,
  PUSH_LOCK_SQL,
  type PositionRow,
  type QueueRow,
  RECORD_OUTCOMES_SQL,
  RECORD_STATE_AT_SQL,
  SESSION_DEVICE_SQL,
  STORED_MUTATIONS_SQL,
  STORE_MUTATIONS_SQL,
  type StoreAnswerRow,
  type StoredRow,
  type RejectCode,
  type Row,
  SERVER_OWNED_TABLES,
  WRITE_POLICIES,
  authorizeMutation,
  decideMutation,
  effectiveBaseVersion,
  batchDeleteStatement,
  batchUpdateStatement,
  lockRowsStatement,
  writeStatement,
} from '@bible/sync';
import type { PushBody } from './sync.schemas';

export interface PushResponse {
  results: MutationResult[];
  cursor: string;
}

interface Outcome {
  status: SyncQueueStatus;
  result: MutationResult;
  conflict?: ConflictInsert;
  /** Already processed (by a concurrent push of the same mutation): nothing to record. */
  stored?: boolean;
}

/** A decided write, waiting to be executed (alone or batched with writes to other records). */
interface PlannedWrite {
  row: QueueRow;
  k: string;
  decision: Extract<Decision, { kind: 'write' }>;
  server: Row | null;
}

/** Per-push memory: rows as they are now, versions this client produced, states by version. */
interface Ledger {
  current: Map<string, Row | null>;
  own: Map<string, Set<number>>;
  states: Map<string, Map<number, Row>>;
}

const FINAL: ReadonlySet<SyncQueueStatus> = new Set(['applied', 'rejected', 'conflict', 'ignored']);

/** A write failed while applying without savepoints: the whole batch is redone with them. */
class FastPathAborted extends Error {}

const key = (table: string, recordId: string) => `${table}\u0000${recordId}`;

/**
 * Push: mutations are first stored durably in sync_queue (one statement, idempotent on
 * (client_id, mutation_id)), then applied in one transaction per request under a per-client lock,
 * in request order. Each mutation's write and its recorded outcome commit together, so a replay
 * finds the stored result and nothing applies twice. The common case runs without savepoints; if
 * any write fails the batch is redone with a savepoint per mutation, so the failing one is
 * recorded as `failed` (retryable) and the others still apply.
 */
@Injectable()
export class SyncPushService extends PgService {
  async push(user: AuthUser, body: PushBody): Promise<PushResponse> {
    const end = pushDuration.startTimer();
    const stored = await this.store(user, body);

    const results = new Map<string, MutationResult>();
    const pendingIds: string[] = [];
    const ownVersions = new Map<string, Set<number>>();
    for (const m of body.mutations) {
      const row = stored.get(m.mutationId);
      if (!row || row.user_id !== user.id) {
        // Another user's (client_id, mutation_id): answer without revealing anything stored.
        results.set(
          m.mutationId,
          reject(
            m.mutationId,
            'MUTATION_ID_TAKEN',
            'this mutationId is already used by another user of this clientId',
          ),
        );
        pushMutationsTotal.inc({ result: 'rejected' });
      } else if (FINAL.has(row.status) && row.result) {
        results.set(m.mutationId, row.result);
        pushMutationsTotal.inc({ result: 'replayed' });
        if (row.result.result === 'applied' && row.result.version !== undefined) {
          addOwn(ownVersions, key(m.table, m.recordId), row.result.version);
        }
      } else {
        pendingIds.push(row.id);
      }
    }

    let cursor: string | null = null;
    if (pendingIds.length > 0) {
      const run = (savepoints: boolean) =>
        this.apply(user, body.sessionId, body.clientId, pendingIds, ownVersions, savepoints);
      let applied: { outcomes: Map<string, Outcome>; cursor: string | null };
      try {
        applied = await run(false);
      } catch (error) {
        if (!(error instanceof FastPathAborted)) throw error;
        applied = await run(true);
      }
      cursor = applied.cursor;
      for (const outcome of applied.outcomes.values()) {
        results.set(outcome.result.mutationId, outcome.result);
        pushMutationsTotal.inc({ result: outcome.stored ? 'replayed' : outcome.status });
      }
    }
    cursor ??= await this.headCursor();
    end();
    return {
      results: body.mutations.map((m) => results.get(m.mutationId) as MutationResult),
      cursor,
    };
  }

  /**
   * Phase 1: checks that the session is the caller's and active, stores every mutation (new ones
   * as pending, one statement, idempotent on (client_id, mutation_id)) and returns the stored row
   * per mutationId.
   */
  private async store(user: AuthUser, body: PushBody): Promise<Map<string, StoredRow>> {
    const input = body.mutations.map((m, ord) => ({
      ord,
      mutation_id: m.mutationId,
      table_name: m.table,
      record_id: m.recordId,
      operation: m.operation,
      data: m.data ?? null,
      base_version: m.baseVersion ?? null,
      client_updated_at: m.clientUpdatedAt,
    }));
    // One statement: the session check, the idempotent insert, and the stored rows.
    const { rows: answer } = await this.pool.query<StoreAnswerRow>(STORE_MUTATIONS_SQL, [
      body.clientId,
      user.id,
      body.sessionId,
      JSON.stringify(input),
    ]);
    const { session_user: owner, session_status: status, rows } = answer[0];
    if (owner !== user.id) {
      throw new AppError(404, ErrorCode.NotFound, `Sync session ${body.sessionId} not found`);
    }
    if (status !== 'active') {
      throw new AppError(
        409,
        ErrorCode.Conflict,
        `Sync session ${body.sessionId} is ${status}; start a new one`,
      );
    }
    const stored = new Map(rows.map((r) => [r.mutation_id, r]));
    const missing = body.mutations.map((m) => m.mutationId).filter((id) => !stored.has(id));
    if (missing.length > 0) {
      // Inserted by a concurrent push that committed after this statement's snapshot.
      const again = await this.pool.query<StoredRow>(STORED_MUTATIONS_SQL, [
        body.clientId,
        missing,
      ]);
      for (const r of again.rows) stored.set(r.mutation_id, r);
    }
    return stored;
  }

  /** Phase 2: apply the pending mutations in request order, in one transaction. */
  private async apply(
    user: AuthUser,
    sessionId: string,
    clientId: string,
    queueIds: string[],
    replayedOwn: Map<string, Set<number>>,
    savepoints: boolean,
  ): Promise<{ outcomes: Map<string, Outcome>; cursor: string | null }> {
    return inTransaction(this.pool, async (client) => {
      await client.query(PUSH_LOCK_SQL, [
        JSON.stringify([user.id, clientId]),
        user.id,
        advisoryLocks.syncPushSeed,
      ]);
      const { rows: locked } = await client.query<QueueRow>(LOCK_QUEUE_SQL, [queueIds]);
      const byId = new Map(locked.map((r) => [r.id, r]));
      const queue = queueIds
        .map((id) => byId.get(id))
        .filter((r): r is QueueRow => r !== undefined);

      const current = await this.loadRecords(client, user, queue);
      const own = new Map([...replayedOwn].map(([k, v]) => [k, new Set(v)]));
      const outcomes = new Map<string, Outcome>();
      const updates: {
        id: string;
        status: SyncQueueStatus;
        result: MutationResult;
        error: string | null;
      }[] = [];
      const conflicts: ConflictInsert[] = [];
      let wrote = false;
      let uploaded = 0;
      const now = Date.now();

      const decided = await this.applyAll(client, user, queue, current, own, now, savepoints);
      for (const row of queue) {
        const outcome = decided.get(row.id) as Outcome;
        outcomes.set(row.id, outcome);
        if (outcome.stored) continue;
        updates.push({
          id: row.id,
          status: outcome.status,
          result: outcome.result,
          error: outcome.result.error
            ? `${outcome.result.error.code}: ${outcome.result.error.message}`
            : null,
        });
        if (outcome.conflict) conflicts.push(outcome.conflict);
        if (outcome.status === 'applied') {
          uploaded++;
          if (!outcome.result.noop) wrote = true;
        }
      }

      const { rows } = await client.query<Partial<PositionRow>>(RECORD_OUTCOMES_SQL, [
        JSON.stringify(updates),
        JSON.stringify(conflicts),
        sessionId,
        uploaded,
        conflicts.length,
        wrote,
      ]);
      if (conflicts.length > 0) await this.recordConflicts(client, sessionId, conflicts);
      const position = rows[0];
      const cursor =
        position?.txid && position.id
          ? encodeCursor({ txid: BigInt(position.txid), id: BigInt(position.id) })
          : null;
      return {
        outcomes: new Map(queue.map((r) => [r.mutation_id, outcomes.get(r.id) as Outcome])),
        cursor,
      };
    });
  }

  /** One `sync.conflict` per conflict, to its editor, committed with the conflict rows. */
  private async recordConflicts(
    client: PoolClient,
    sessionId: string,
    conflicts: ConflictInsert[],
  ): Promise<void> {
    const { rows } = await client.query<{ device_id: string }>(SESSION_DEVICE_SQL, [sessionId]);
    await recordEvents(
      client,
      conflicts.map((c) => ({
        type: 'sync.conflict' as const,
        userId: c.user_id,
        data: {
          conflictId: c.id,
          table: c.table_name,
          recordId: c.record_id,
          userId: c.user_id,
          deviceId: rows[0]?.device_id ?? null,
          sessionId,
        },
      })),
    );
  }

  /** Current rows of every record the batch touches, locked when the caller may write them. */
  private async loadRecords(
    client: PoolClient,
    user: AuthUser,
    queue: QueueRow[],
  ): Promise<Map<string, Row | null>> {
    const byTable = new Map<string, { ids: Set<string>; lock: boolean }>();
    for (const row of queue) {
      if (!WRITE_POLICIES[row.table_name] || SERVER_OWNED_TABLES.has(row.table_name)) continue;
      const entry = byTable.get(row.table_name) ?? { ids: new Set<string>(), lock: false };
      entry.ids.add(row.record_id);
      if (
        authorizeMutation(user.role, {
          table: row.table_name,
          operation: row.operation,
          data: row.data,
        }).kind === 'allow'
      ) {
        entry.lock = true;
      }
      byTable.set(row.table_name, entry);
    }
    const current = new Map<string, Row | null>();
    // Tables in a fixed order so two pushes never lock rows in opposite orders.
    for (const table of [...byTable.keys()].sort()) {
      const { ids, lock } = byTable.get(table) as { ids: Set<string>; lock: boolean };
      const sorted = [...ids].sort();
      const statement = lockRowsStatement(table, sorted, lock);
      const { rows } = await client.query<{ id: string; row: Row }>(
        statement.text,
        statement.values,
      );
      for (const id of sorted) current.set(key(table, id), null);
      for (const r of rows) current.set(key(table, r.id), r.row);
    }
    return current;
  }

  /**
   * Decides every mutation in order and performs the writes. Without savepoints, updates and
   * deletes of distinct records are collected and written per table in one statement (one
   * change_log trigger run); a mutation touching a record with a collected write flushes first,
   * so it sees the written row. With savepoints, each write runs alone and a failure is recorded.
   */
  private async applyAll(
    client: PoolClient,
    user: AuthUser,
    queue: QueueRow[],
    current: Map<string, Row | null>,
    own: Map<string, Set<number>>,
    now: number,
    savepoints: boolean,
  ): Promise<Map<string, Outcome>> {
    const ledger: Ledger = { current, own, states: new Map() };
    const outcomes = new Map<string, Outcome>();
    let pending: PlannedWrite[] = [];
    const pendingKeys = new Set<string>();
    const flush = async () => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      pendingKeys.clear();
      const written = await this.writeBatch(client, batch);
      for (const plan of batch) {
        outcomes.set(plan.row.id, this.applied(plan, written.get(plan.k) as Row, ledger));
      }
    };

    for (const row of queue) {
      if (FINAL.has(row.status) && row.result) {
        // Applied by a concurrent push of the same mutation while this one waited for the lock.
        outcomes.set(row.id, { status: row.status, result: row.result, stored: true });
        continue;
      }
      const k = key(row.table_name, row.record_id);
      if (pendingKeys.has(k)) await flush();
      const step = await this.decideOne(client, user, row, ledger, now);
      if (!('decision' in step)) {
        outcomes.set(row.id, step);
        continue;
      }
      if (!savepoints && (step.decision.write === 'update' || step.decision.write === 'delete')) {
        pending.push(step);
        pendingKeys.add(k);
        continue;
      }
      await flush();
      const statement = writeStatement(
        row.table_name,
        row.record_id,
        step.decision.write,
        step.decision.set,
      );
      try {
        if (savepoints) await client.query('SAVEPOINT mutation');
        const { rows } = await client.query<{ row: Row }>(statement.text, statement.values);
        if (savepoints) await client.query('RELEASE SAVEPOINT mutation');
        outcomes.set(row.id, this.applied(step, rows[0].row, ledger));
      } catch (error) {
        if (!savepoints) throw new FastPathAborted((error as Error).message);
        await client.query('ROLLBACK TO SAVEPOINT mutation');
        getLogger().info(
          { mutationId: row.mutation_id, table: row.table_name, err: (error as Error).message },
          'sync mutation failed',
        );
        outcomes.set(row.id, {
          status: 'failed',
          result: {
            ...reject(row.mutation_id, 'WRITE_FAILED', describePgError(error), step.server),
            retryable: true,
          },
        });
      }
    }
    await flush();
    return outcomes;
  }

  /** Writes collected updates/deletes, one statement per (table, kind); any error aborts the fast path. */
  private async writeBatch(client: PoolClient, batch: PlannedWrite[]): Promise<Map<string, Row>> {
    const groups = new Map<string, PlannedWrite[]>();
    for (const plan of batch) {
      const g = `${plan.row.table_name}\u0000${plan.decision.write}`;
      groups.set(g, [...(groups.get(g) ?? []), plan]);
    }
    const written = new Map<string, Row>();
    for (const plans of groups.values()) {
      const { table_name: table } = plans[0].row;
      const statement =
        plans[0].decision.write === 'delete'
          ? batchDeleteStatement(
              table,
              plans.map((p) => p.row.record_id),
            )
          : batchUpdateStatement(
              table,
              plans.map((p) => ({ id: p.row.record_id, set: p.decision.set })),
            );
      let rows: { id: string; row: Row }[];
      try {
        rows = (await client.query<{ id: string; row: Row }>(statement.text, statement.values))
          .rows;
      } catch (error) {
        throw new FastPathAborted((error as Error).message);
      }
      if (rows.length !== plans.length) throw new FastPathAborted('a batched write missed a row');
      for (const r of rows) written.set(key(table, r.id), r.row);
    }
    return written;
  }

  /** Records a performed write in the ledger and builds its `applied` outcome. */
  private applied(plan: PlannedWrite, written: Row, ledger: Ledger): Outcome {
    const version = Number(written.version);
    ledger.current.set(plan.k, written);
    addOwn(ledger.own, plan.k, version);
    const history = ledger.states.get(plan.k) ?? new Map<number, Row>();
    history.set(version, written);
    ledger.states.set(plan.k, history);
    return {
      status: 'applied',
      result: {
        mutationId: plan.row.mutation_id,
        result: 'applied',
        version,
        serverRecord: written,
        ...(plan.decision.merged.length > 0 && { merged: plan.decision.merged }),
        ...(plan.decision.discarded.length > 0 && { discarded: plan.decision.discarded }),
      },
    };
  }

  /** Authorisation and the merge/LWW decision for one mutation: an outcome, or a write to perform. */
  private async decideOne(
    client: PoolClient,
    user: AuthUser,
    row: QueueRow,
    ledger: Ledger,
    now: number,
  ): Promise<Outcome | PlannedWrite> {
    const mutationId = row.mutation_id;
    const k = key(row.table_name, row.record_id);
    const auth = authorizeMutation(user.role, {
      table: row.table_name,
      operation: row.operation,
      data: row.data,
    });
    if (auth.kind === 'ignore') {
      return {
        status: 'ignored',
        result: {
          mutationId,
          result: 'ignored',
          error: { code: 'SERVER_OWNED', message: auth.reason },
        },
      };
    }
    const server = ledger.current.get(k) ?? null;
    if (auth.kind === 'reject') {
      return { status: 'rejected', result: reject(mutationId, auth.code, auth.message, server) };
    }

    const clientAt = row.client_updated_at ? row.client_updated_at.getTime() : now;
    let baseVersion = row.base_version;
    let base: Row | null | undefined;
    if (server && baseVersion !== null && baseVersion < Number(server.version)) {
      baseVersion = effectiveBaseVersion(
        baseVersion,
        Number(server.version),
        ledger.own.get(k) ?? new Set(),
      );
      if (baseVersion < Number(server.version)) {
        base =
          ledger.states.get(k)?.get(baseVersion) ??
          (await this.stateAt(client, row.table_name, row.record_id, baseVersion));
      }
    }
    const decision: Decision = decideMutation({
      operation: row.operation,
      data: row.data,
      baseVersion,
      clientUpdatedAtMs: clientAt,
      nowMs: now,
      server,
      base,
    });

    switch (decision.kind) {
      case 'noop':
        return {
          status: 'applied',
          result: {
            mutationId,
            result: 'applied',
            noop: true,
            ...(server && { version: Number(server.version), serverRecord: server }),
          },
        };
      case 'reject':
        return {
          status: 'rejected',
          result: reject(mutationId, decision.code, decision.message, server),
        };
      case 'conflict': {
        const conflictId = randomUUID();
        return {
          status: 'conflict',
          result: {
            mutationId,
            result: 'conflict',
            conflictId,
            ...(server && { version: Number(server.version), serverRecord: server }),
            error: { code: 'CONFLICT', message: decision.message },
          },
          conflict: {
            id: conflictId,
            queue_id: row.id,
            user_id: user.id,
            table_name: row.table_name,
            record_id: row.record_id,
            base_version: row.base_version,
            server_version: server ? Number(server.version) : null,
            client_data:
              row.operation === 'DELETE'
                ? { deleted_at: new Date(Math.min(clientAt, now)).toISOString() }
                : row.data,
            server_data: server,
          },
        };
      }
      case 'write':
        return { row, k, decision, server };
    }
  }

  /** The record as it was at `version`, from the change log (undefined when no longer known). */
  private async stateAt(
    client: PoolClient,
    table: string,
    recordId: string,
    version: number,
  ): Promise<Row | undefined> {
    const { rows } = await client.query<{ new_data: Row }>(RECORD_STATE_AT_SQL, [
      table,
      recordId,
      version,
    ]);
    return rows[0]?.new_data;
  }

  /** The newest readable feed position (used when a push wrote nothing). */
  private async headCursor(): Promise<string> {
    const { rows } = await this.pool.query<PositionRow>(HEAD_POSITION_SQL);
    return encodeCursor(
      rows[0] ? { txid: BigInt(rows[0].txid), id: BigInt(rows[0].id) } : { txid: 0n, id: 0n },
    );
  }
}

function addOwn(own: Map<string, Set<number>>, k: string, version: number): void {
  const set = own.get(k) ?? new Set<number>();
  set.add(version);
  own.set(k, set);
}

function reject(
  mutationId: string,
  code: RejectCode,
  message: string,
  server?: Row | null,
): MutationResult {
  return {
    mutationId,
    result: 'rejected',
    ...(server && { version: Number(server.version), serverRecord: server }),
    error: { code, message },
  };
}

function describePgError(error: unknown): string {
  const e = error as { message?: string; constraint?: string; code?: string };
  return [
    e.message ?? 'write failed',
    e.constraint && `(constraint ${e.constraint})`,
    e.code && `[${e.code}]`,
  ]
    .filter(Boolean)
    .join(' ');
}
