import type { PackageGenerationStatus, PackageRequestStatus, PackageType } from '@bible/common';
import type { PackageParams } from './identity';

/**
 * One row type per package table, as raw SQL returns it (snake_case, bigints as strings).
 * Queries that read fewer columns say so with `Pick<…>`, so a column changes in one place.
 */

/** package_generations; `M` is the manifest as the reader types it. */
export interface GenerationRow<M = Record<string, unknown>> {
  id: string;
  package_id: string;
  package_key: string;
  package_type: PackageType;
  language_entity_id: string;
  audio_version_id: string | null;
  text_version_id: string | null;
  books: string[] | null;
  chunking: Record<string, unknown> | null;
  series_id: string | null;
  part_number: number | null;
  total_parts: number | null;
  content_revision: string;
  base_package_id: string | null;
  base_revision: string | null;
  sync_cursor: string | null;
  status: PackageGenerationStatus;
  object_key: string | null;
  size_bytes: string | null;
  content_sha256: string | null;
  manifest: M | null;
  generation_ms: number | null;
  cache_hits: number;
  download_count: string;
  bytes_served: string;
  error: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  ready_at: Date | null;
  stale_at: Date | null;
  expires_at: Date | null;
}

/** A generation that was published (ready, or stale since): its file columns are set. */
export type PublishedGenerationRow<M = Record<string, unknown>> = GenerationRow<M> & {
  object_key: string;
  size_bytes: string;
  content_sha256: string;
  manifest: M;
};

/** package_requests */
export interface PackageRequestRow {
  id: string;
  package_key: string;
  params: PackageParams;
  base_package_id: string | null;
  requested_by: string | null;
  status: PackageRequestStatus;
  job_id: string | null;
  progress: number;
  stage: string | null;
  package_generation_id: string | null;
  error: string | null;
  result: { packageIds?: string[]; missing?: { mediaFileId: string; reason: string }[] } | null;
  started_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}
