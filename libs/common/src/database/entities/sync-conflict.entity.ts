import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { Relation } from 'typeorm';
import { CONFLICT_RESOLUTIONS, sqlIn, type ConflictResolution } from '../constants';
import { TimestampedRecord } from './content-record';
import { SyncQueueItem } from './sync-queue.entity';

@Entity('sync_conflicts')
@Check('chk_sync_conflicts_resolution', sqlIn('resolution', CONFLICT_RESOLUTIONS))
@Check('chk_sync_conflicts_resolved', `("resolution" IS NULL) = ("resolved_at" IS NULL)`)
@Index('idx_sync_conflicts_user_id_created_at', ['userId', 'createdAt'])
@Index('idx_sync_conflicts_queue_id', ['queueId'])
@Index('idx_sync_conflicts_table_name_record_id', ['tableName', 'recordId'])
@Index('idx_sync_conflicts_unresolved', ['createdAt'], { where: '"resolved_at" IS NULL' })
export class SyncConflict extends TimestampedRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_sync_conflicts' })
  id!: string;

  @Column('uuid', { name: 'queue_id', nullable: true })
  queueId!: string | null;

  @Column('text', { name: 'user_id' })
  userId!: string;

  @Column('text', { name: 'table_name' })
  tableName!: string;

  @Column('text', { name: 'record_id' })
  recordId!: string;

  @Column('integer', { name: 'base_version', nullable: true })
  baseVersion!: number | null;

  @Column('integer', { name: 'server_version', nullable: true })
  serverVersion!: number | null;

  @Column('jsonb', { name: 'client_data', nullable: true })
  clientData!: Record<string, unknown> | null;

  @Column('jsonb', { name: 'server_data', nullable: true })
  serverData!: Record<string, unknown> | null;

  @Column('text', { nullable: true })
  resolution!: ConflictResolution | null;

  @Column('jsonb', { name: 'resolved_data', nullable: true })
  resolvedData!: Record<string, unknown> | null;

  @Column('timestamptz', { name: 'resolved_at', nullable: true })
  resolvedAt!: Date | null;

  @Column('text', { name: 'resolved_by', nullable: true })
  resolvedBy!: string | null;

  @ManyToOne(() => SyncQueueItem, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'queue_id', foreignKeyConstraintName: 'fk_sync_conflicts_queue_id' })
  queueItem?: Relation<SyncQueueItem>;
}
