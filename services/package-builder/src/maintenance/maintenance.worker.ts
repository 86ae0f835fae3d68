import { Inject, Injectable } from '@nestjs/common';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, REDIS, getLogger } from '@bible/common';
import {
  S3,
  type S3Handle,
  UploadsInFlight,
  abortMultipartUpload,
  abortMultipartUploadsBefore,
} from '@bible/storage';
import { BUILDER_CONFIG, type BuilderConfig } from '../config';

/**
 * Housekeeping of the builders, run by job schedulers on the `maintenance` queue (each occurrence
 * on one replica; maintenance.module.ts): abort multipart uploads that a crashed build left
 * behind, and expire superseded packages.
 */
@Injectable()
export class MaintenanceWorker {
  private readonly uploads: UploadsInFlight;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(S3) private readonly s3: S3Handle,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(BUILDER_CONFIG) private readonly config: BuilderConfig,
  ) {
    this.uploads = new UploadsInFlight(redis);
  }

  /**
   * Aborts incomplete multipart uploads started before the sweep age: each attempt builders
   * recorded and never cleared (by its upload id, or by listing its exact key when the builder
   * died before learning the id; MinIO only lists the uploads of one exact key), plus every
   * upload a listing of `packages/` shows (S3). A key-only attempt whose upload the store still
   * dates after the cutoff (clocks differ between builder and store) stays recorded for the next
   * sweep: forgetting it would leave that upload behind for good on MinIO.
   */
  async sweepMultipartUploads(): Promise<number> {
    const cutoff = Date.now() - this.config.MULTIPART_SWEEP_AGE_MS;
    const tracked = await this.uploads.startedBefore(cutoff);
    let removed = 0;
    const { client, bucket } = this.s3;
    const settled: string[] = [];
    const byKey = new Map<string, string[]>();
    for (const attempt of tracked) {
      if (!attempt.uploadId) {
        byKey.set(attempt.key, [...(byKey.get(attempt.key) ?? []), attempt.member]);
        continue;
      }
      if (await abortMultipartUpload(client, bucket, attempt.key, attempt.uploadId)) removed++;
      settled.push(attempt.member);
    }
    for (const [key, members] of byKey) {
      const { aborted, younger } = await abortMultipartUploadsBefore(client, bucket, key, cutoff);
      removed += aborted;
      if (younger === 0) settled.push(...members);
    }
    if (!byKey.has('packages/'))
      removed += (await abortMultipartUploadsBefore(client, bucket, 'packages/', cutoff)).aborted;
    await this.uploads.forget(settled);
    if (removed > 0) getLogger().info({ removed }, 'aborted abandoned multipart uploads');
    return removed;
  }

  /** Stale packages past retention: object removed, row kept as `expired` for history. */
  async pruneStalePackages(): Promise<number> {
    const rows: { id: string; object_key: string }[] = await this.db.query(
      `SELECT id, object_key FROM package_generations
        WHERE status = 'stale' AND stale_at < now() - make_interval(hours => $1::int) LIMIT 500`,
      [Math.floor(this.config.PACKAGE_STALE_RETENTION_HOURS)],
    );
    for (const row of rows) {
      await this.db.query(
        `UPDATE package_generations SET status = 'expired', expires_at = now() WHERE id = $1`,
        [row.id],
      );
      await this.s3.client
        .send(new DeleteObjectCommand({ Bucket: this.s3.bucket, Key: row.object_key }))
        .catch(() => undefined);
    }
    return rows.length;
  }
}
