import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import type { Relation } from 'typeorm';
import {
  CHANGE_OPERATIONS,
  SYNC_QUEUE_STATUSES,
  sqlIn,
  type ChangeOperation,
  type SyncQueueStatus,
} from '../constants';
import { SyncSession } from './sync-session.entity';

/**
 * Client mutations as pushed. The unique (client_id, mutation_id) makes retried pushes idempotent:
 * a repeat finds the stored row and returns its `result` instead of applying it again.
 */
@Entity('sync_queue')
@Unique('uq_sync_queue_client_id_mutation_id', ['clientId', 'mutationId'])
@Check('chk_sync_queue_status', sqlIn('status', SYNC_QUEUE_STATUSES))
@Check('chk_sync_queue_operation', sqlIn('operation', CHANGE_OPERATIONS))
@Check('chk_sync_queue_attempts', `"attempts" >= 0`)
@Index('idx_sync_queue_status_created_at', ['status', 'createdAt'])
@Index('idx_sync_queue_user_id_created_at', ['userId', 'createdAt'])
@Index('idx_sync_queue_session_id', ['sessionId'])
@Index('idx_sync_queue_table_name_record_id', ['tableName', 'recordId'])
export class SyncQueueItem {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_sync_queue' })
  id!: string;

  @Column('text', { name: 'client_id' })
  clientId!: string;

  @Column('text', { name: 'mutation_id' })
  mutationId!: string;

  @Column('text', { name: 'user_id' })
  userId!: string;

  @Column('uuid', { name: 'session_id', nullable: true })
  sessionId!: string | null;

  @Column('text', { name: 'table_name' })
  tableName!: string;

  @Column('text', { name: 'record_id' })
  recordId!: string;

  @Column('text')
  operation!: ChangeOperation;

  @Column('jsonb', { nullable: true })
  data!: Record<string, unknown> | null;

  @Column('integer', { name: 'base_version', nullable: true })
  baseVersion!: number | null;

  @Column('timestamptz', { name: 'client_updated_at', nullable: true })
  clientUpdatedAt!: Date | null;

  @Column('text', { default: 'pending' })
  status!: SyncQueueStatus;

  @Column('jsonb', { nullable: true })
  result!: Record<string, unknown> | null;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()', update: false })
  createdAt!: Date;

  @Column('timestamptz', { name: 'processed_at', nullable: true })
  processedAt!: Date | null;

  @ManyToOne(() => SyncSession, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_sync_queue_session_id' })
  session?: Relation<SyncSession>;
}
