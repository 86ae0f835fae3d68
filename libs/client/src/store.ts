// The local store: the imported package's SQLite database, used as is (the `package_*` tables
// are what the app reads), plus four client tables:
//
//   client_state      key/value: packageId, manifest, pull cursor, scope, clientId, sessionId
//   client_outbox     local mutations in the order they were made, each with a mutationId, kept
//                     after pushing with the server's answer
//   client_shadow     the server's view of every record that has pending mutations, so a pull or
//                     a push answer can refresh it and the pending edits are replayed on top
//   client_conflicts  conflicts the server recorded for our mutations (resolve them online)
//
// Invariant: every package row = the server's row (from the package, pulls and push answers)
// with this client's pending mutations applied in order.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { PACKAGE_TABLE_COLUMNS } from '@bible/package-format';
import type { Mutation, MutationResult } from './api';
import { type Scope, packageTable, toPackageRow } from './mirror';

type Row = Record<string, unknown>;

const CLIENT_SCHEMA = `
CREATE TABLE IF NOT EXISTS client_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS client_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  mutation_id TEXT NOT NULL UNIQUE,
  table_name TEXT NOT NULL,
  record_id TEXT NOT NULL,
  operation TEXT NOT NULL,
  data TEXT,
  base_version INTEGER,
  client_updated_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  result TEXT
);
CREATE TABLE IF NOT EXISTS client_shadow (
  table_name TEXT NOT NULL, record_id TEXT NOT NULL, row TEXT,
  PRIMARY KEY (table_name, record_id)
);
CREATE TABLE IF NOT EXISTS client_conflicts (
  conflict_id TEXT PRIMARY KEY,
  mutation_id TEXT NOT NULL,
  table_name TEXT NOT NULL,
  record_id TEXT NOT NULL,
  server_record TEXT,
  recorded_at TEXT NOT NULL
);`;

export type Operation = Mutation['operation'];
export type OutboxStatus = 'pending' | MutationResult['result'];

export interface OutboxEntry extends Mutation {
  seq: number;
  status: OutboxStatus;
  result?: MutationResult;
}

interface OutboxRow {
  seq: number;
  mutation_id: string;
  table_name: string;
  record_id: string;
  operation: Operation;
  data: string | null;
  base_version: number | null;
  client_updated_at: string;
  status: OutboxStatus;
  result: string | null;
}

function entry(r: OutboxRow): OutboxEntry {
  return {
    seq: r.seq,
    mutationId: r.mutation_id,
    table: r.table_name,
    recordId: r.record_id,
    operation: r.operation,
    data: r.data ? (JSON.parse(r.data) as Mutation['data']) : {},
    ...(r.base_version !== null && { baseVersion: r.base_version }),
    clientUpdatedAt: r.client_updated_at,
    status: r.status,
    ...(r.result && { result: JSON.parse(r.result) as MutationResult }),
  };
}

export class LocalStore {
  private constructor(readonly db: Database.Database) {}

  /** Opens a store database (an extracted package database) and adds the client tables. */
  static open(path: string): LocalStore {
    const db = new Database(path, { fileMustExist: true });
    // As in packages, foreign keys document joins but are not enforced: a pulled row may point
    // at a record outside the package's scope (better-sqlite3 enforces them by default).
    db.pragma('foreign_keys = OFF');
    db.exec(CLIENT_SCHEMA);
    return new LocalStore(db);
  }

  close(): void {
    this.db.close();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // --- state -------------------------------------------------------------------------------

  get(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM client_state WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value;
  }

  set(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO client_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  /** This installation's id for pushes (idempotency is per clientId + mutationId). */
  clientId(): string {
    let id = this.get('clientId');
    if (!id) this.set('clientId', (id = randomUUID()));
    return id;
  }

  scope(): Scope {
    return JSON.parse(this.get('scope') ?? '{}') as Scope;
  }

  // --- package rows ------------------------------------------------------------------------

  row(serverTable: string, id: string): Row | undefined {
    const table = packageTable(serverTable);
    if (!table) return undefined;
    return this.db.prepare(`SELECT * FROM ${table} WHERE id = ?`).get(id) as Row | undefined;
  }

  /** Writes (or, for null, deletes) the package row of a record. */
  private write(serverTable: string, id: string, row: Row | null): void {
    const table = packageTable(serverTable);
    if (!table) return;
    if (!row) {
      this.db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id);
      return;
    }
    const columns = PACKAGE_TABLE_COLUMNS[table];
    this.db
      .prepare(
        `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
      )
      .run(row);
  }

  // --- server changes ----------------------------------------------------------------------

  /**
   * Applies a server row (a pulled change or a push answer's serverRecord; null = gone) to a
   * record. With pending mutations the server row goes to the shadow and the edits are replayed.
   */
  applyServerRow(serverTable: string, id: string, data: Row | null, version: number | null): void {
    if (!packageTable(serverTable)) return;
    const shadow = this.shadow(serverTable, id);
    const current = shadow ? shadow.row : this.row(serverTable, id);
    // A change older than what we hold (our own write answered before the pull reached it).
    if (version !== null && typeof current?.version === 'number' && current.version > version)
      return;
    const next = toPackageRow(serverTable, data, this.scope(), current ?? undefined);
    if (shadow) {
      this.setShadow(serverTable, id, next);
      this.rebuild(serverTable, id);
    } else {
      this.write(serverTable, id, next);
    }
  }

  private shadow(serverTable: string, id: string): { row: Row | null } | undefined {
    const r = this.db
      .prepare('SELECT row FROM client_shadow WHERE table_name = ? AND record_id = ?')
      .get(serverTable, id) as { row: string | null } | undefined;
    return r && { row: r.row ? (JSON.parse(r.row) as Row) : null };
  }

  private setShadow(serverTable: string, id: string, row: Row | null): void {
    this.db
      .prepare(
        `INSERT INTO client_shadow (table_name, record_id, row) VALUES (?, ?, ?)
         ON CONFLICT (table_name, record_id) DO UPDATE SET row = excluded.row`,
      )
      .run(serverTable, id, row ? JSON.stringify(row) : null);
  }

  /** Row := shadow (server view) + pending mutations; the shadow goes when none are pending. */
  private rebuild(serverTable: string, id: string): void {
    const shadow = this.shadow(serverTable, id);
    if (!shadow) return;
    let row = shadow.row;
    const pending = this.pendingFor(serverTable, id);
    for (const m of pending) row = this.applyMutation(m, row);
    this.write(serverTable, id, row);
    if (pending.length === 0)
      this.db
        .prepare('DELETE FROM client_shadow WHERE table_name = ? AND record_id = ?')
        .run(serverTable, id);
  }

  /** What a mutation does to the local row (the server decides for real when it is pushed). */
  private applyMutation(m: Mutation, row: Row | null): Row | null {
    const data = (m.data ?? {}) as Row;
    switch (m.operation) {
      case 'DELETE':
        return null;
      case 'UPDATE':
        return row && toPackageRow(m.table, { ...row, ...data }, this.scope(), row);
      case 'INSERT':
        return toPackageRow(
          m.table,
          {
            created_at: m.clientUpdatedAt,
            updated_at: m.clientUpdatedAt,
            ...row,
            ...data,
            id: m.recordId,
          },
          this.scope(),
          row ?? undefined,
        );
    }
  }

  // --- outbox ------------------------------------------------------------------------------

  /** Records a local edit and applies it to the store at once (offline). */
  edit(m: {
    table: string;
    recordId: string;
    operation: Operation;
    data?: Row;
    clientUpdatedAt?: string;
  }): OutboxEntry {
    if (!packageTable(m.table)) throw new Error(`the package has no table for ${m.table}`);
    return this.transaction(() => {
      if (!this.shadow(m.table, m.recordId))
        this.setShadow(m.table, m.recordId, this.row(m.table, m.recordId) ?? null);
      const server = this.shadow(m.table, m.recordId)?.row;
      if (m.operation !== 'INSERT' && !server && this.pendingFor(m.table, m.recordId).length === 0)
        throw new Error(`${m.table} ${m.recordId} is not in the store`);
      const mutationId = randomUUID();
      const version = typeof server?.version === 'number' ? server.version : null;
      this.db
        .prepare(
          `INSERT INTO client_outbox (mutation_id, table_name, record_id, operation, data, base_version, client_updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          mutationId,
          m.table,
          m.recordId,
          m.operation,
          JSON.stringify(m.data ?? {}),
          m.operation === 'INSERT' ? null : version,
          m.clientUpdatedAt ?? new Date().toISOString(),
        );
      this.rebuild(m.table, m.recordId);
      return this.outbox().find((e) => e.mutationId === mutationId) as OutboxEntry;
    });
  }

  outbox(status?: OutboxStatus): OutboxEntry[] {
    const rows = (
      status
        ? this.db.prepare('SELECT * FROM client_outbox WHERE status = ? ORDER BY seq').all(status)
        : this.db.prepare('SELECT * FROM client_outbox ORDER BY seq').all()
    ) as OutboxRow[];
    return rows.map(entry);
  }

  private pendingFor(serverTable: string, id: string): OutboxEntry[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM client_outbox WHERE table_name = ? AND record_id = ? AND status = 'pending' ORDER BY seq`,
        )
        .all(serverTable, id) as OutboxRow[]
    ).map(entry);
  }

  /**
   * Records the server's answer to a pushed mutation: the final outcome leaves the outbox's
   * pending set (a retryable rejection stays pending), the server's record replaces our view,
   * a conflict is kept for resolution.
   */
  recordResult(m: OutboxEntry, result: MutationResult): void {
    const retry = result.result === 'rejected' && result.retryable === true;
    this.db
      .prepare('UPDATE client_outbox SET status = ?, result = ? WHERE mutation_id = ?')
      .run(retry ? 'pending' : result.result, JSON.stringify(result), m.mutationId);
    if (result.result === 'conflict' && result.conflictId)
      this.db
        .prepare(
          `INSERT OR IGNORE INTO client_conflicts (conflict_id, mutation_id, table_name, record_id, server_record, recorded_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(
          result.conflictId,
          m.mutationId,
          m.table,
          m.recordId,
          result.serverRecord ? JSON.stringify(result.serverRecord) : null,
          new Date().toISOString(),
        );
    if (result.serverRecord && this.shadow(m.table, m.recordId)) {
      const current = this.shadow(m.table, m.recordId)?.row ?? undefined;
      this.setShadow(
        m.table,
        m.recordId,
        toPackageRow(m.table, result.serverRecord, this.scope(), current),
      );
    }
    this.rebuild(m.table, m.recordId);
  }

  conflicts(): { conflictId: string; mutationId: string; table: string; recordId: string }[] {
    return this.db
      .prepare(
        'SELECT conflict_id AS conflictId, mutation_id AS mutationId, table_name AS "table", record_id AS recordId FROM client_conflicts ORDER BY recorded_at',
      )
      .all() as { conflictId: string; mutationId: string; table: string; recordId: string }[];
  }

  /**
   * Carries this client's own tables into a freshly imported package database (an update): the
   * outbox, conflicts and identity stay; each pending record's server view becomes the new
   * package's row and its edits are replayed on top.
   */
  adopt(from: LocalStore): void {
    this.transaction(() => {
      for (const key of ['clientId', 'sessionId', 'deviceId']) {
        const value = from.get(key);
        if (value !== undefined) this.set(key, value);
      }
      const copy = (table: string) => {
        const rows = from.db.prepare(`SELECT * FROM ${table}`).all() as Row[];
        for (const r of rows) {
          const cols = Object.keys(r);
          this.db
            .prepare(
              `INSERT OR REPLACE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
            )
            .run(r);
        }
      };
      copy('client_outbox');
      copy('client_conflicts');
      const records = this.db
        .prepare(
          `SELECT DISTINCT table_name AS t, record_id AS id FROM client_outbox WHERE status = 'pending'`,
        )
        .all() as { t: string; id: string }[];
      for (const { t, id } of records) {
        this.setShadow(t, id, this.row(t, id) ?? null);
        this.rebuild(t, id);
      }
    });
  }
}
