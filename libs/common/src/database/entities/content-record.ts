import { Column, DeleteDateColumn } from 'typeorm';

/**
 * Audit columns shared by every content table. `updated_at`, `updated_by` and `version` are owned
 * by the `content_touch` trigger (bumped on every real UPDATE), so TypeORM never writes the first
 * and last of them; `deleted_at` is a soft delete that change_log turns into a DELETE tombstone.
 */
export abstract class ContentRecord {
  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()', update: false })
  createdAt!: Date;

  @Column({ type: 'text', name: 'created_by', nullable: true, update: false })
  createdBy!: string | null;

  @Column({
    type: 'timestamptz',
    name: 'updated_at',
    default: () => 'now()',
    insert: false,
    update: false,
  })
  updatedAt!: Date;

  @Column('text', { name: 'updated_by', nullable: true })
  updatedBy!: string | null;

  @Column({ type: 'integer', name: 'version', default: 1, insert: false, update: false })
  version!: number;

  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;
}

/** created_at / updated_at for operational tables (updated_at kept by the `set_updated_at` trigger). */
export abstract class TimestampedRecord {
  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()', update: false })
  createdAt!: Date;

  @Column({
    type: 'timestamptz',
    name: 'updated_at',
    default: () => 'now()',
    insert: false,
    update: false,
  })
  updatedAt!: Date;
}
