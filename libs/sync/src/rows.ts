/*
 * Row types of the sync tables as the sync SQL of this lib returns them (one per table), and the
 * push outcome stored in sync_queue.result.
 */
import type {
  ChangeLogTable,
  ChangeOperation,
  ConflictResolution,
  SyncQueueStatus,
  SyncSessionStatus,
} from '@bible/common';
import type { Operation, Row } from './rules';

export type ResultKind = 'applied' | 'rejected' | 'conflict' | 'ignored';

/** The answer to one pushed mutation (also stored in sync_queue.result for replays). */
export interface MutationResult {
  mutationId: string;
  result: ResultKind;
  version?: number;
  serverRecord?: Row;
  conflictId?: string;
  merged?: string[];
  discarded?: string[];
  noop?: boolean;
  retryable?: boolean;
  error?: { code: string; message: string };
}

/** sync_sessions, as SESSION_COLUMNS selects it. */
export interface SessionRow {
  id: string;
  user_id: string;
  device_id: string;
  package_id: string | null;
  status: SyncSessionStatus;
  started_at: Date;
  completed_at: Date | null;
  changes_downloaded: number;
  changes_uploaded: number;
  conflicts_count: number;
}

/** sync_queue: one stored mutation and its outcome. */
export interface QueueRow {
  id: string;
  mutation_id: string;
  user_id: string;
  status: SyncQueueStatus;
  result: MutationResult | null;
  table_name: string;
  record_id: string;
  operation: Operation;
  data: Record<string, unknown> | null;
  base_version: number | null;
  client_updated_at: Date | null;
}

/** What a push reads back after storing its mutations (STORE_MUTATIONS_SQL). */
export type StoredRow = Pick<QueueRow, 'id' | 'mutation_id' | 'user_id' | 'status' | 'result'>;

/** sync_conflicts with the mutation id of its queue row (CONFLICT_SELECT). */
export interface ConflictRow {
  id: string;
  user_id: string;
  table_name: string;
  record_id: string;
  mutation_id: string | null;
  base_version: number | null;
  server_version: number | null;
  client_data: Record<string, unknown> | null;
  server_data: Row | null;
  resolution: ConflictResolution | null;
  resolved_data: Record<string, unknown> | null;
  created_at: Date;
  created_at_text: string;
  resolved_at: Date | null;
}

/** change_log as the relay reads it (RELAY_BATCH_SQL). */
export interface FeedRow {
  txid: string;
  id: string;
  table_name: ChangeLogTable;
  operation: ChangeOperation;
  record_id: string;
  /** Book of the changed row (verse text, verse timing, media file), when it has one. */
  book_id: string | null;
  audio_version_id: string | null;
  text_version_id: string | null;
  changed_at: Date;
}
