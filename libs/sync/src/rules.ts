/*
 * Business rules of push sync as pure functions: who may write what (authorisation), and how a
 * client mutation meets the server's record (apply, merge, Last-Writer-Wins, conflict, reject).
 * No I/O here: the push service loads rows, asks these functions, and performs the writes.
 */
import { type Role, roleRank } from '@bible/common';

export type Operation = 'INSERT' | 'UPDATE' | 'DELETE';
export type JsonValue = string | number | boolean | null;
export type Row = Record<string, unknown>;

/** Two changes to the same field closer than this (and with different content) are a conflict. */
export const CONFLICT_WINDOW_MS = 1_000;

// ------------------------------------------------------------------------------------------------
// Authorisation
// ------------------------------------------------------------------------------------------------

export interface TablePolicy {
  /** Lowest role allowed to write the table at all. */
  minRole: Role;
  /** Columns a client may set when creating a row (null: clients cannot create rows here). */
  insert: readonly string[] | null;
  /** Columns a client may change. */
  update: readonly string[];
  /** Whether clients may (soft-)delete rows. */
  delete: boolean;
}

/**
 * The write allow-list. Content is shared by every user, so only curators write it: editors may
 * edit verse texts and the descriptive metadata of media files; admins may also rename and
 * (un)publish versions. Storage facts (paths, sizes, checksums, durations) come only from the
 * upload pipeline, and verse timings only from alignment (server-owned: client changes are
 * `ignored`). Every other table is not writable through sync.
 */
export const WRITE_POLICIES: Readonly<Record<string, TablePolicy>> = {
  verse_texts: {
    minRole: 'editor',
    insert: ['verse_id', 'text_version_id', 'verse_text', 'publish_status'],
    update: ['verse_text', 'publish_status'],
    delete: true,
  },
  media_files: {
    minRole: 'editor',
    insert: null,
    update: [
      'publish_status',
      'check_status',
      'chapter_id',
      'start_verse_id',
      'end_verse_id',
      'is_bible_audio',
    ],
    delete: true,
  },
  text_versions: {
    minRole: 'admin',
    insert: null,
    update: ['name', 'publish_status', 'text_version_source'],
    delete: false,
  },
  audio_versions: {
    minRole: 'admin',
    insert: null,
    update: ['name', 'publish_status'],
    delete: false,
  },
};

/** Tables whose rows the server alone computes: client changes are acknowledged and dropped. */
export const SERVER_OWNED_TABLES: ReadonlySet<string> = new Set(['media_files_verses']);

export type RejectCode =
  | 'UNKNOWN_TABLE'
  | 'FORBIDDEN'
  | 'OPERATION_NOT_ALLOWED'
  | 'COLUMN_NOT_WRITABLE'
  | 'MISSING_DATA'
  | 'NOT_FOUND'
  | 'RECORD_DELETED'
  | 'SERVER_NEWER'
  | 'BASE_VERSION_AHEAD'
  | 'MUTATION_ID_TAKEN'
  | 'WRITE_FAILED';

export type AuthDecision =
  | { kind: 'allow' }
  | { kind: 'ignore'; reason: string }
  | { kind: 'reject'; code: RejectCode; message: string };

export interface MutationShape {
  table: string;
  operation: Operation;
  data?: Record<string, unknown> | null;
}

/** May `role` perform this mutation? Decided before any record is read. */
export function authorizeMutation(role: Role, mutation: MutationShape): AuthDecision {
  if (SERVER_OWNED_TABLES.has(mutation.table)) {
    return {
      kind: 'ignore',
      reason: `${mutation.table} is computed by the server; client changes are ignored`,
    };
  }
  const policy = WRITE_POLICIES[mutation.table];
  if (!policy) {
    return {
      kind: 'reject',
      code: 'UNKNOWN_TABLE',
      message: `${mutation.table} is not writable through sync`,
    };
  }
  if (roleRank[role] < roleRank[policy.minRole]) {
    return {
      kind: 'reject',
      code: 'FORBIDDEN',
      message: `writing ${mutation.table} needs the ${policy.minRole} role`,
    };
  }
  const columns = Object.keys(mutation.data ?? {});
  switch (mutation.operation) {
    case 'DELETE':
      return policy.delete
        ? { kind: 'allow' }
        : {
            kind: 'reject',
            code: 'OPERATION_NOT_ALLOWED',
            message: `rows of ${mutation.table} cannot be deleted through sync`,
          };
    case 'INSERT':
    case 'UPDATE': {
      const allowed = mutation.operation === 'INSERT' ? policy.insert : policy.update;
      if (allowed === null) {
        return {
          kind: 'reject',
          code: 'OPERATION_NOT_ALLOWED',
          message: `rows of ${mutation.table} cannot be created through sync`,
        };
      }
      if (columns.length === 0) {
        return {
          kind: 'reject',
          code: 'MISSING_DATA',
          message: `${mutation.operation} needs at least one column in data`,
        };
      }
      const denied = columns.filter((c) => !allowed.includes(c));
      if (denied.length > 0) {
        return {
          kind: 'reject',
          code: 'COLUMN_NOT_WRITABLE',
          message: `not writable in ${mutation.table}: ${denied.join(', ')} (writable: ${allowed.join(', ')})`,
        };
      }
      return { kind: 'allow' };
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Ordering: versions first, clocks only to break a true tie
// ------------------------------------------------------------------------------------------------

/** Deep equality of JSON values (column values as jsonb returns them). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    return (a ?? null) === (b ?? null);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Row)[k], (b as Row)[k]));
}

export type Winner = 'client' | 'server' | 'tie';

/**
 * Last-Writer-Wins between a client change and the server's last write to the record. The client
 * clock is capped at the server's receipt time, so a fast client clock cannot win by claiming the
 * future. Within `windowMs` neither side clearly came last: a tie (a conflict when contents differ).
 */
export function lastWriter(
  clientAtMs: number,
  serverAtMs: number,
  nowMs: number,
  windowMs = CONFLICT_WINDOW_MS,
): Winner {
  const client = Math.min(clientAtMs, nowMs);
  if (Math.abs(client - serverAtMs) < windowMs) return 'tie';
  return client > serverAtMs ? 'client' : 'server';
}

/**
 * The version the client's change was really based on. Versions in (baseVersion, serverVersion]
 * that this same client produced (earlier mutations of the same push, or replays) are not
 * concurrent edits: skip over them so a client never conflicts with itself.
 */
export function effectiveBaseVersion(
  baseVersion: number,
  serverVersion: number,
  ownVersions: ReadonlySet<number>,
): number {
  let version = baseVersion;
  while (version < serverVersion && ownVersions.has(version + 1)) version++;
  return version;
}

// ------------------------------------------------------------------------------------------------
// The decision for one mutation
// ------------------------------------------------------------------------------------------------

export interface DecisionInput {
  operation: Operation;
  data: Record<string, unknown> | null | undefined;
  /** The server version the client edited (absent: unknown, e.g. a blind write). */
  baseVersion: number | null | undefined;
  clientUpdatedAtMs: number;
  nowMs: number;
  /** The current server row (to_jsonb of the table row), or null when there is none. */
  server: Row | null;
  /**
   * The server row as it was at `baseVersion` (from the change log), when the server has moved
   * on; undefined when unknown (then every field the server now holds differently counts as
   * changed on both sides).
   */
  base?: Row | null;
  windowMs?: number;
}

export type WriteKind = 'insert' | 'update' | 'undelete' | 'delete';

export type Decision =
  | {
      kind: 'write';
      write: WriteKind;
      /** Columns to set (empty for a delete). */
      set: Row;
      /** Columns taken from the client although the server had moved on (no overlap). */
      merged: string[];
      /** Client columns dropped because the server's later write won (LWW). */
      discarded: string[];
    }
  | { kind: 'noop'; reason: string }
  | { kind: 'reject'; code: RejectCode; message: string }
  | { kind: 'conflict'; fields: string[]; message: string };

function versionOf(row: Row): number {
  return Number(row.version ?? 0);
}

function updatedAtOf(row: Row): number {
  const value = row.updated_at;
  const ms = typeof value === 'string' || value instanceof Date ? new Date(value).getTime() : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

function isDeleted(row: Row): boolean {
  return row.deleted_at !== null && row.deleted_at !== undefined;
}

function pick(data: Record<string, unknown>, fields: string[]): Row {
  return Object.fromEntries(fields.map((f) => [f, data[f]]));
}

/**
 * How a mutation meets the server record:
 *  - based on the current version: applied as is;
 *  - the server moved on: fields the server did not change since the base merge in; a field both
 *    sides changed goes to the later writer (client `clientUpdatedAt` vs server `updated_at`);
 *    within 1 s with different content it is a conflict (nothing applied, recorded for manual
 *    resolution); if the server wins everything, the mutation is rejected with the server record;
 *  - deletes: a delete based on an outdated version follows the same LWW/conflict rule against
 *    the server's last write; updates never resurrect a deleted record (an INSERT of the same id
 *    may, if it is later than the deletion).
 */
export function decideMutation(input: DecisionInput): Decision {
  const { operation, server } = input;
  const data = input.data ?? {};
  const windowMs = input.windowMs ?? CONFLICT_WINDOW_MS;
  const winner = (s: Row) =>
    lastWriter(input.clientUpdatedAtMs, updatedAtOf(s), input.nowMs, windowMs);

  if (operation === 'INSERT') {
    if (!server)
      return { kind: 'write', write: 'insert', set: { ...data }, merged: [], discarded: [] };
    if (isDeleted(server)) {
      switch (winner(server)) {
        case 'client':
          return { kind: 'write', write: 'undelete', set: { ...data }, merged: [], discarded: [] };
        case 'server':
          return {
            kind: 'reject',
            code: 'SERVER_NEWER',
            message: 'the record was deleted on the server after this change',
          };
        case 'tie':
          return {
            kind: 'conflict',
            fields: ['deleted_at'],
            message: 'the record was deleted on the server at the same time',
          };
      }
    }
    // The row exists: an insert of an existing id is an update with an unknown base.
    return decideMutation({
      ...input,
      operation: 'UPDATE',
      baseVersion: undefined,
      base: undefined,
    });
  }

  if (!server)
    return {
      kind: 'reject',
      code: 'NOT_FOUND',
      message: 'the record does not exist on the server',
    };
  const serverVersion = versionOf(server);
  const baseVersion = input.baseVersion ?? undefined;
  if (baseVersion !== undefined && baseVersion > serverVersion) {
    return {
      kind: 'reject',
      code: 'BASE_VERSION_AHEAD',
      message: `baseVersion ${baseVersion} is newer than the server's version ${serverVersion}`,
    };
  }
  const current = baseVersion === serverVersion;

  if (operation === 'DELETE') {
    if (isDeleted(server)) return { kind: 'noop', reason: 'already deleted' };
    if (current) return { kind: 'write', write: 'delete', set: {}, merged: [], discarded: [] };
    switch (winner(server)) {
      case 'client':
        return { kind: 'write', write: 'delete', set: {}, merged: [], discarded: [] };
      case 'server':
        return {
          kind: 'reject',
          code: 'SERVER_NEWER',
          message: 'the record changed on the server after this delete',
        };
      case 'tie':
        return {
          kind: 'conflict',
          fields: ['deleted_at'],
          message: 'the record changed on the server at the same time as this delete',
        };
    }
  }

  // UPDATE
  if (isDeleted(server)) {
    return {
      kind: 'reject',
      code: 'RECORD_DELETED',
      message: 'the record has been deleted on the server',
    };
  }
  const differing = Object.keys(data).filter((f) => !jsonEqual(data[f], server[f]));
  if (differing.length === 0)
    return { kind: 'noop', reason: 'the server already holds these values' };
  if (current)
    return {
      kind: 'write',
      write: 'update',
      set: pick(data, differing),
      merged: [],
      discarded: [],
    };

  const base = input.base;
  const serverChanged = (f: string) => (base ? !jsonEqual(base[f], server[f]) : true);
  const taken: string[] = [];
  const merged: string[] = [];
  const discarded: string[] = [];
  const conflicts: string[] = [];
  for (const field of differing) {
    if (!serverChanged(field)) {
      taken.push(field);
      merged.push(field);
      continue;
    }
    const w = winner(server);
    if (w === 'client') taken.push(field);
    else if (w === 'server') discarded.push(field);
    else conflicts.push(field);
  }
  if (conflicts.length > 0) {
    return {
      kind: 'conflict',
      fields: conflicts,
      message: `changed on the server within ${windowMs} ms of this change: ${conflicts.join(', ')}`,
    };
  }
  if (taken.length === 0) {
    return {
      kind: 'reject',
      code: 'SERVER_NEWER',
      message: `the server's later change wins: ${discarded.join(', ')}`,
    };
  }
  return { kind: 'write', write: 'update', set: pick(data, taken), merged, discarded };
}

// ------------------------------------------------------------------------------------------------
// Conflict resolution
// ------------------------------------------------------------------------------------------------

export type Resolution = 'client_wins' | 'server_wins' | 'merged';

export type ResolutionWrite = { kind: 'none' } | { kind: 'delete' } | { kind: 'set'; set: Row };

/**
 * What resolving a conflict writes. The conflict stores the client's side as `client_data`
 * (a delete as `{ deleted_at: <client time> }`); `merged` brings its own data. A non-null
 * `deleted_at` means delete; otherwise the columns are written (and a deleted record restored,
 * because the user explicitly chose this content).
 */
export function resolutionWrite(
  resolution: Resolution,
  clientData: Record<string, unknown> | null,
  mergedData: Record<string, unknown> | undefined,
): ResolutionWrite {
  const target =
    resolution === 'client_wins' ? clientData : resolution === 'merged' ? mergedData : null;
  if (!target) return { kind: 'none' };
  if (target.deleted_at !== undefined && target.deleted_at !== null) return { kind: 'delete' };
  const set = Object.fromEntries(Object.entries(target).filter(([k]) => k !== 'deleted_at'));
  return Object.keys(set).length > 0 ? { kind: 'set', set } : { kind: 'none' };
}
