import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { SYNC_SESSION_STATUSES, sqlIn, type SyncSessionStatus } from '../constants';
import { TimestampedRecord } from './content-record';

@Entity('sync_sessions')
@Check('chk_sync_sessions_status', sqlIn('status', SYNC_SESSION_STATUSES))
@Check(
  'chk_sync_sessions_counters',
  `"changes_downloaded" >= 0 AND "changes_uploaded" >= 0 AND "conflicts_count" >= 0`,
)
@Index('idx_sync_sessions_user_id_started_at', ['userId', 'startedAt'])
@Index('idx_sync_sessions_status_started_at', ['status', 'startedAt'])
export class SyncSession extends TimestampedRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_sync_sessions' })
  id!: string;

  @Column('text', { name: 'user_id' })
  userId!: string;

  @Column('text', { name: 'device_id' })
  deviceId!: string;

  @Column('text', { name: 'package_id', nullable: true })
  packageId!: string | null;

  @Column('text', { default: 'active' })
  status!: SyncSessionStatus;

  @Column('timestamptz', { name: 'started_at', default: () => 'now()' })
  startedAt!: Date;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt!: Date | null;

  @Column('integer', { name: 'changes_downloaded', default: 0 })
  changesDownloaded!: number;

  @Column('integer', { name: 'changes_uploaded', default: 0 })
  changesUploaded!: number;

  @Column('integer', { name: 'conflicts_count', default: 0 })
  conflictsCount!: number;

  @Column('text', { name: 'start_cursor', nullable: true })
  startCursor!: string | null;

  @Column('text', { name: 'end_cursor', nullable: true })
  endCursor!: string | null;

  @Column('text', { nullable: true })
  error!: string | null;
}
