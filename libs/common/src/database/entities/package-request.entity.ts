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
import { PACKAGE_REQUEST_STATUSES, sqlIn, type PackageRequestStatus } from '../constants';
import { TimestampedRecord } from './content-record';
import { PackageGeneration } from './package-generation.entity';

/** A `POST /v1/packages` request; the BullMQ job carries only this row's id. */
@Entity('package_requests')
@Check('chk_package_requests_status', sqlIn('status', PACKAGE_REQUEST_STATUSES))
@Check('chk_package_requests_progress', `"progress" >= 0 AND "progress" <= 100`)
@Index('idx_package_requests_package_key_created_at', ['packageKey', 'createdAt'])
@Index('idx_package_requests_status_created_at', ['status', 'createdAt'])
@Index('idx_package_requests_requested_by_created_at', ['requestedBy', 'createdAt'])
@Index('idx_package_requests_job_id', ['jobId'])
@Index('idx_package_requests_package_generation_id', ['packageGenerationId'])
export class PackageRequest extends TimestampedRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_package_requests' })
  id!: string;

  @Column('text', { name: 'package_key' })
  packageKey!: string;

  /** The validated request body. */
  @Column('jsonb')
  params!: Record<string, unknown>;

  /** An update request: the package the client holds (a delta from it is built if worth it). */
  @Column('text', { name: 'base_package_id', nullable: true })
  basePackageId!: string | null;

  @Column('text', { name: 'requested_by', nullable: true })
  requestedBy!: string | null;

  @Column('text', { default: 'queued' })
  status!: PackageRequestStatus;

  @Column('text', { name: 'job_id', nullable: true })
  jobId!: string | null;

  @Column('integer', { default: 0 })
  progress!: number;

  @Column('text', { nullable: true })
  stage!: string | null;

  @Column('uuid', { name: 'package_generation_id', nullable: true })
  packageGenerationId!: string | null;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('jsonb', { nullable: true })
  result!: Record<string, unknown> | null;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { name: 'completed_at', nullable: true })
  completedAt!: Date | null;

  @ManyToOne(() => PackageGeneration, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({
    name: 'package_generation_id',
    foreignKeyConstraintName: 'fk_package_requests_package_generation_id',
  })
  packageGeneration?: Relation<PackageGeneration>;
}
