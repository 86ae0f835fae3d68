import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import {
  CHANGE_LOG_TABLES,
  CHANGE_OPERATIONS,
  sqlIn,
  type ChangeLogTable,
  type ChangeOperation,
} from '../constants';

/**
 * Append-only change feed written by the `change_log_capture` trigger. Readers page by
 * `(txid, id)` and stop below `change_log_safe_xmin()`, so rows of transactions that commit out of
 * order are never skipped (a serial id or a timestamp alone would skip them).
 */
@Entity('change_log')
@Check('chk_change_log_table_name', sqlIn('table_name', CHANGE_LOG_TABLES))
@Check('chk_change_log_operation', sqlIn('operation', CHANGE_OPERATIONS))
@Index('idx_change_log_txid_id', ['txid', 'id'])
@Index('idx_change_log_audio_version_id_txid_id', ['audioVersionId', 'txid', 'id'], {
  where: '"audio_version_id" IS NOT NULL',
})
@Index('idx_change_log_text_version_id_txid_id', ['textVersionId', 'txid', 'id'], {
  where: '"text_version_id" IS NOT NULL',
})
@Index('idx_change_log_table_name_record_id', ['tableName', 'recordId', 'id'])
export class ChangeLog {
  /** Sequence within the feed (bigint: a string in JS). */
  @PrimaryGeneratedColumn('increment', {
    type: 'bigint',
    primaryKeyConstraintName: 'pk_change_log',
  })
  id!: string;

  /** Writing transaction id (`pg_current_xact_id()`, epoch-extended so it never wraps). */
  @Column('bigint', { default: () => 'change_log_current_txid()' })
  txid!: string;

  @Column('text', { name: 'table_name' })
  tableName!: ChangeLogTable;

  @Column('text', { name: 'record_id' })
  recordId!: string;

  @Column('text')
  operation!: ChangeOperation;

  @Column('jsonb', { name: 'old_data', nullable: true })
  oldData!: Record<string, unknown> | null;

  @Column('jsonb', { name: 'new_data', nullable: true })
  newData!: Record<string, unknown> | null;

  @Column('text', { name: 'changed_by', nullable: true })
  changedBy!: string | null;

  @Column('timestamptz', { name: 'changed_at', default: () => 'now()' })
  changedAt!: Date;

  @Column('text', { name: 'change_source', default: 'server' })
  changeSource!: string;

  /** Sync scope: the audio version the changed row belongs to. */
  @Column('text', { name: 'audio_version_id', nullable: true })
  audioVersionId!: string | null;

  /** Sync scope: the text version the changed row belongs to. */
  @Column('text', { name: 'text_version_id', nullable: true })
  textVersionId!: string | null;

  /** The row's `version` after the change (before it, for a hard delete). */
  @Column('integer', { name: 'record_version', nullable: true })
  recordVersion!: number | null;
}
