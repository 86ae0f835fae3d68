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
  PACKAGE_GENERATION_STATUSES,
  PACKAGE_TYPES,
  sqlIn,
  type PackageGenerationStatus,
  type PackageType,
} from '../constants';
import { AudioVersion } from './audio-version.entity';
import { LanguageEntity } from './language-entity.entity';
import { TextVersion } from './text-version.entity';

/**
 * One built (or building) `.bible` file. `package_key` identifies the inputs (type, versions,
 * language, books, chunking); together with `content_revision` it finds an existing build, which
 * replaces the sketches' per-process in-memory cache.
 */
@Entity('package_generations')
@Unique('uq_package_generations_package_id', ['packageId'])
@Check('chk_package_generations_status', sqlIn('status', PACKAGE_GENERATION_STATUSES))
@Check('chk_package_generations_package_type', sqlIn('package_type', PACKAGE_TYPES))
@Check('chk_package_generations_package_id', `"package_id" ~ '^[A-Za-z0-9._-]{1,128}$'`)
@Check(
  'chk_package_generations_parts',
  `"total_parts" >= 1 AND "part_number" >= 1 AND "part_number" <= "total_parts"`,
)
@Check('chk_package_generations_size_bytes', `"size_bytes" >= 0`)
@Check('chk_package_generations_content_sha256', `"content_sha256" ~ '^[0-9a-f]{64}$'`)
@Check(
  'chk_package_generations_counters',
  `"cache_hits" >= 0 AND "download_count" >= 0 AND "bytes_served" >= 0`,
)
@Check(
  'chk_package_generations_ready',
  `"status" <> 'ready' OR ("object_key" IS NOT NULL AND "size_bytes" IS NOT NULL AND "content_sha256" IS NOT NULL AND "manifest" IS NOT NULL AND "ready_at" IS NOT NULL)`,
)
@Check('chk_package_generations_delta', `("base_package_id" IS NULL) = ("base_revision" IS NULL)`)
@Index('idx_package_generations_package_key_revision', ['packageKey', 'contentRevision'])
@Index('idx_package_generations_status', ['status'])
@Index('idx_package_generations_language_entity_id_type', ['languageEntityId', 'packageType'])
@Index('idx_package_generations_audio_version_id', ['audioVersionId'])
@Index('idx_package_generations_text_version_id', ['textVersionId'])
@Index('idx_package_generations_series_id', ['seriesId'])
export class PackageGeneration {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_package_generations' })
  id!: string;

  /** Public id, e.g. `eng-web-text-r12345`; also the download file name. */
  @Column('text', { name: 'package_id' })
  packageId!: string;

  @Column('text', { name: 'package_key' })
  packageKey!: string;

  @Column('text', { name: 'package_type' })
  packageType!: PackageType;

  @Column('text', { name: 'language_entity_id' })
  languageEntityId!: string;

  @Column('text', { name: 'audio_version_id', nullable: true })
  audioVersionId!: string | null;

  @Column('text', { name: 'text_version_id', nullable: true })
  textVersionId!: string | null;

  /** OSIS-derived book ids included, or null for all. */
  @Column('text', { array: true, nullable: true })
  books!: string[] | null;

  @Column('jsonb', { nullable: true })
  chunking!: Record<string, unknown> | null;

  @Column('text', { name: 'series_id', nullable: true })
  seriesId!: string | null;

  @Column('integer', { name: 'part_number', nullable: true })
  partNumber!: number | null;

  @Column('integer', { name: 'total_parts', nullable: true })
  totalParts!: number | null;

  /** Change-feed position the content reflects. */
  @Column('text', { name: 'content_revision' })
  contentRevision!: string;

  /** Delta packages: the full package this one applies to, and that package's revision. */
  @Column('text', { name: 'base_package_id', nullable: true })
  basePackageId!: string | null;

  @Column('text', { name: 'base_revision', nullable: true })
  baseRevision!: string | null;

  @Column('text', { name: 'sync_cursor', nullable: true })
  syncCursor!: string | null;

  @Column('text', { default: 'building' })
  status!: PackageGenerationStatus;

  @Column('text', { name: 'object_key', nullable: true })
  objectKey!: string | null;

  @Column('bigint', { name: 'size_bytes', nullable: true })
  sizeBytes!: string | null;

  @Column('text', { name: 'content_sha256', nullable: true })
  contentSha256!: string | null;

  @Column('jsonb', { nullable: true })
  manifest!: Record<string, unknown> | null;

  @Column('integer', { name: 'generation_ms', nullable: true })
  generationMs!: number | null;

  @Column('integer', { name: 'cache_hits', default: 0 })
  cacheHits!: number;

  @Column('bigint', { name: 'download_count', default: 0 })
  downloadCount!: string;

  @Column('bigint', { name: 'bytes_served', default: 0 })
  bytesServed!: string;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('text', { name: 'created_by', nullable: true })
  createdBy!: string | null;

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

  @Column('timestamptz', { name: 'ready_at', nullable: true })
  readyAt!: Date | null;

  @Column('timestamptz', { name: 'stale_at', nullable: true })
  staleAt!: Date | null;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @ManyToOne(() => LanguageEntity, { nullable: false })
  @JoinColumn({
    name: 'language_entity_id',
    foreignKeyConstraintName: 'fk_package_generations_language_entity_id',
  })
  languageEntity?: Relation<LanguageEntity>;

  @ManyToOne(() => AudioVersion, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({
    name: 'audio_version_id',
    foreignKeyConstraintName: 'fk_package_generations_audio_version_id',
  })
  audioVersion?: Relation<AudioVersion>;

  @ManyToOne(() => TextVersion, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({
    name: 'text_version_id',
    foreignKeyConstraintName: 'fk_package_generations_text_version_id',
  })
  textVersion?: Relation<TextVersion>;
}
