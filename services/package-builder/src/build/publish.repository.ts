import { Inject, Injectable } from '@nestjs/common';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, getLogger, recordEvents } from '@bible/common';
import {
  APPLIED_DELTA_FROM,
  type PackageParams,
  type PackageRequestRow,
  type PublishedGenerationRow,
} from '@bible/packages';
import { S3, type S3Handle } from '@bible/storage';
import type { Manifest } from '@bible/package-format';
import {
  type BuildFailure,
  type BuildRequest,
  packageFailedEvents,
  packageReadyEvents,
} from './build-events';

export interface GenerationDraft {
  packageId: string;
  packageKey: string;
  params: PackageParams;
  contentRevision: string;
  syncCursor: string;
  objectKey: string;
  sizeBytes: number;
  contentSha256: string;
  manifest: Record<string, unknown>;
  seriesId: string | null;
  partNumber: number | null;
  totalParts: number | null;
  books: string[];
  createdBy: string;
  generationMs: number;
  missing: { mediaFileId: string; reason: string }[];
  /** Delta packages: the full package it applies to and that package's revision. */
  base?: { packageId: string; revision: string };
}

/** A published package file: where it is and what its header and manifest say. */
export interface StoredPackage {
  packageId: string;
  objectKey: string;
  contentSha256: string;
  databaseHash: string;
}

/**
 * The full package a delta is built against: one the server published (`stored`), or one a
 * client applied from a published delta (`via`: that delta and its stored base), which the
 * server never wrote but whose rows it can rebuild from the two.
 */
export interface BaseGeneration {
  packageId: string;
  packageKey: string;
  contentRevision: string;
  audioFileIndex: Manifest['audioFileIndex'];
  /** Series parts: the part number and its books (a delta is built for that part alone). */
  partNumber: number | null;
  books: string[] | null;
  stored?: StoredPackage;
  via?: { base: StoredPackage; delta: StoredPackage };
}

/** What a build reads of its request. */
type LoadedRequest = Pick<PackageRequestRow, 'params' | 'requested_by' | 'base_package_id'>;

/** The columns a base generation is read with. */
type StoredColumns = Pick<
  PublishedGenerationRow<Manifest>,
  | 'package_id'
  | 'package_key'
  | 'part_number'
  | 'books'
  | 'content_revision'
  | 'content_sha256'
  | 'object_key'
  | 'manifest'
>;

const stored = (r: StoredColumns): StoredPackage => ({
  packageId: r.package_id,
  objectKey: r.object_key,
  contentSha256: r.content_sha256,
  databaseHash: r.manifest.databaseHash,
});

/** Publishing and bookkeeping of builds in Postgres. */
@Injectable()
export class PublishRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(S3) private readonly s3: S3Handle,
  ) {}

  async loadRequest(requestId: string): Promise<LoadedRequest | null> {
    const rows: LoadedRequest[] = await this.db.query(
      `SELECT params, requested_by, base_package_id FROM package_requests WHERE id = $1`,
      [requestId],
    );
    return rows[0] ?? null;
  }

  /**
   * The package a client holds, to build a delta against: a downloadable full package, or the
   * result of applying a downloadable delta to its (still downloadable) base; null if gone.
   */
  async baseGeneration(packageId: string): Promise<BaseGeneration | null> {
    const columns =
      'package_id, package_key, part_number, books, content_revision, content_sha256, object_key, manifest';
    const full: StoredColumns[] = await this.db.query(
      `SELECT ${columns} FROM package_generations
        WHERE package_id = $1 AND status IN ('ready', 'stale') AND base_revision IS NULL`,
      [packageId],
    );
    if (full[0]) {
      const r = full[0];
      return {
        packageId: r.package_id,
        packageKey: r.package_key,
        contentRevision: r.content_revision,
        audioFileIndex: r.manifest.audioFileIndex,
        partNumber: r.part_number,
        books: r.books,
        stored: stored(r),
      };
    }
    const pairs: (StoredColumns & { base: StoredColumns })[] = await this.db.query(
      `SELECT d.package_id, d.package_key, d.part_number, d.books, d.content_revision, d.content_sha256,
              d.object_key, d.manifest, to_jsonb(b) AS base
         ${APPLIED_DELTA_FROM}`,
      [packageId],
    );
    const d = pairs[0];
    const target = d?.manifest.delta?.targetAudioFileIndex;
    if (!d || !target) return null;
    return {
      packageId,
      packageKey: d.package_key,
      contentRevision: d.content_revision,
      audioFileIndex: target,
      partNumber: d.part_number,
      books: d.books,
      via: { base: stored(d.base), delta: stored(d) },
    };
  }

  /**
   * Ready packages of a key at a revision: full ones, or deltas from `baseRevision` (of one
   * series part when `partNumber` is given).
   */
  async readyPackageIds(
    packageKey: string,
    revision: string,
    baseRevision?: string,
    partNumber?: number,
  ): Promise<string[]> {
    const rows: { package_id: string }[] = await this.db.query(
      `SELECT package_id FROM package_generations
        WHERE package_key = $1 AND content_revision = $2 AND status = 'ready'
          AND base_revision IS NOT DISTINCT FROM $3 AND ($4::int IS NULL OR part_number = $4)
        ORDER BY part_number NULLS FIRST`,
      [packageKey, revision, baseRevision ?? null, partNumber ?? null],
    );
    return rows.map((r) => r.package_id);
  }

  /**
   * The current ready full package of each part number (0 for a single package) and what it
   * superseded: a build's `supersedes` is that package, or, when a delta is built to that very
   * package, what it superseded.
   */
  async previousPackageIds(
    packageKey: string,
  ): Promise<Map<number, { packageId: string; supersedes: string | null }>> {
    const rows: { part: number; package_id: string; supersedes: string | null }[] =
      await this.db.query(
        `SELECT DISTINCT ON (COALESCE(part_number, 0)) COALESCE(part_number, 0) AS part, package_id,
                manifest->>'supersedes' AS supersedes
           FROM package_generations WHERE package_key = $1 AND status = 'ready' AND base_revision IS NULL
          ORDER BY COALESCE(part_number, 0), created_at DESC`,
        [packageKey],
      );
    return new Map(
      rows.map((r) => [r.part, { packageId: r.package_id, supersedes: r.supersedes }]),
    );
  }

  /**
   * Makes every part visible at once (their objects are complete), marks older generations of the
   * same content key stale (still downloadable until retention expires them), completes the
   * job's request rows and records one `package.ready` per part, all in one transaction.
   */
  async publish(drafts: GenerationDraft[], jobId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      // A new full package makes every older one of its key stale (deltas included); a delta
      // replaces nothing.
      const full = drafts.filter((d) => !d.base);
      const keys = [...new Set(full.map((d) => d.packageKey))];
      if (keys.length > 0) {
        await tx.query(
          `UPDATE package_generations SET status = 'stale', stale_at = now()
            WHERE package_key = ANY($1::text[]) AND status = 'ready' AND NOT (package_id = ANY($2::text[]))`,
          [keys, full.map((d) => d.packageId)],
        );
      }
      for (const d of drafts) {
        await tx.query(
          `INSERT INTO package_generations (package_id, package_key, package_type, language_entity_id, audio_version_id,
              text_version_id, books, chunking, series_id, part_number, total_parts, content_revision, sync_cursor, status,
              object_key, size_bytes, content_sha256, manifest, generation_ms, created_by, ready_at,
              base_package_id, base_revision)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'ready', $14, $15, $16, $17, $18, $19, now(),
              $20, $21)
           ON CONFLICT (package_id) DO UPDATE SET status = 'ready', object_key = EXCLUDED.object_key,
              size_bytes = EXCLUDED.size_bytes, content_sha256 = EXCLUDED.content_sha256, manifest = EXCLUDED.manifest,
              generation_ms = EXCLUDED.generation_ms, ready_at = now(), error = NULL`,
          [
            d.packageId,
            d.packageKey,
            d.params.packageType,
            d.params.languageEntityId,
            d.params.packageType === 'text' ? null : (d.params.audioVersionId ?? null),
            d.params.packageType === 'audio' ? null : (d.params.textVersionId ?? null),
            d.books,
            d.params.chunking ? JSON.stringify(d.params.chunking) : null,
            d.seriesId,
            d.partNumber,
            d.totalParts,
            d.contentRevision,
            d.syncCursor,
            d.objectKey,
            d.sizeBytes,
            d.contentSha256,
            JSON.stringify(d.manifest),
            d.generationMs,
            d.createdBy,
            d.base?.packageId ?? null,
            d.base?.revision ?? null,
          ],
        );
      }
      const generation: { id: string }[] = await tx.query(
        `SELECT id FROM package_generations WHERE package_id = $1`,
        [drafts[0].packageId],
      );
      // A CTE so TypeORM answers the RETURNING rows (a bare UPDATE answers [rows, count]).
      const requests: BuildRequest[] = await tx.query(
        `WITH done AS (
           UPDATE package_requests SET status = 'completed', progress = 100, stage = 'done', error = NULL,
               package_generation_id = $2, result = $3, completed_at = now()
            WHERE job_id = $1 RETURNING id, requested_by)
         SELECT id, requested_by FROM done`,
        [
          jobId,
          generation[0]?.id ?? null,
          JSON.stringify({
            packageIds: drafts.map((d) => d.packageId),
            missing: drafts.flatMap((d) => d.missing),
          }),
        ],
      );
      await recordEvents(
        tx,
        packageReadyEvents(
          drafts.map((d) => ({ ...d, packageType: d.params.packageType })),
          requests,
        ),
      );
    });
  }

  async markActive(jobId: string, attempt: number): Promise<void> {
    await this.db.query(
      `UPDATE package_requests SET status = 'active', started_at = COALESCE(started_at, now()), error = NULL, progress = 0,
          stage = $2
        WHERE job_id = $1 AND status <> 'completed'`,
      [jobId, attempt > 1 ? `retry ${attempt}` : 'gather'],
    );
  }

  /** A build handed back to the queue unfinished (its builder is shutting down): queued again. */
  async requeue(jobId: string): Promise<void> {
    await this.db.query(
      `UPDATE package_requests SET status = 'queued', progress = 0, stage = 'queued'
        WHERE job_id = $1 AND status = 'active'`,
      [jobId],
    );
  }

  async progress(jobId: string, stage: string, percent: number): Promise<void> {
    await this.db.query(
      `UPDATE package_requests SET progress = $3, stage = $2 WHERE job_id = $1 AND status = 'active'`,
      [jobId, stage, Math.max(0, Math.min(100, Math.round(percent)))],
    );
  }

  /**
   * Records why a job failed; `final` once retries are exhausted (the status endpoint shows it).
   * A final failure also records `package.failed` for the rows it fails, in the same transaction;
   * rows already failed are left alone, so recording the same failure twice writes one event.
   */
  async fail(jobId: string, failure: BuildFailure, final: boolean): Promise<void> {
    await this.db.transaction(async (tx) => {
      const failed: (BuildRequest & { package_key: string })[] = await tx.query(
        `WITH f AS (
           UPDATE package_requests SET status = $3, error = $2,
                  completed_at = CASE WHEN $3 = 'failed' THEN now() END
            WHERE job_id = $1 AND status <> 'completed' AND NOT ($3 = 'failed' AND status = 'failed')
           RETURNING id, requested_by, package_key, status)
         SELECT id, requested_by, package_key FROM f WHERE status = 'failed'`,
        [jobId, failure.reason.slice(0, 2000), final ? 'failed' : 'queued'],
      );
      await recordEvents(
        tx,
        packageFailedEvents(jobId, { ...failure, reason: failure.reason.slice(0, 2000) }, failed),
      );
    });
  }

  async deleteObjects(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.s3.client.send(
        new DeleteObjectsCommand({
          Bucket: this.s3.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    } catch (error) {
      getLogger().warn(
        { err: (error as Error).message, keys },
        'could not delete unpublished package objects',
      );
    }
  }
}
