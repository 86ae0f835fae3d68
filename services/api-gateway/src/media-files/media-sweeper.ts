import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { getLogger, metricsRegistry } from '@bible/common';
import { S3, type S3Handle, abortMultipartUploadsBefore } from '@bible/storage';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { MediaFilesRepository } from './media-files.repository';

/**
 * Only keys this system's uploaders generate are candidates: `<chapter>-<uuid>.<ext>` (API ingest)
 * and `<chapter>-<sha256 prefix>.<ext>` (import CLI). Objects named otherwise (e.g. the seed's
 * `media/<version>/<chapter>.mp3`, or another environment's objects in a shared bucket) are never
 * touched.
 */
export const SWEEPABLE_KEY =
  /-(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16})\.(?:mp3|m4a)$/;

const swept = new Counter({
  name: 'bible_media_swept_total',
  help: 'Orphaned media removed by the sweeper: objects without a row, abandoned multipart uploads.',
  labelNames: ['kind'] as const,
  registers: [metricsRegistry],
});

/**
 * Removes what a crash between "object stored" and "row committed" leaves behind: objects under
 * the media prefix that no media_files row (live or soft-deleted) points at, and multipart uploads
 * that never completed, once they are older than MEDIA_SWEEP_MIN_AGE_SECONDS (younger ones may
 * belong to an upload still in flight). Run by the `sweep-media` job scheduler of the
 * gateway-maintenance queue on one replica every MEDIA_SWEEP_INTERVAL_MS (media-files.module.ts).
 */
@Injectable()
export class MediaSweeper {
  constructor(
    private readonly repo: MediaFilesRepository,
    @Inject(S3) private readonly s3: S3Handle,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** One sweep, logged when it removed something. */
  async run(): Promise<{ objects: number; uploads: number }> {
    const result = await this.sweep();
    if (result.objects + result.uploads > 0) getLogger().info(result, 'swept orphaned media');
    return result;
  }

  async sweep(now = Date.now()): Promise<{ objects: number; uploads: number }> {
    const { client, bucket } = this.s3;
    const prefix = this.config.MEDIA_OBJECT_PREFIX;
    const cutoff = now - this.config.MEDIA_SWEEP_MIN_AGE_SECONDS * 1000;
    let objects = 0;
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      const old = (page.Contents ?? [])
        .filter(
          (o) =>
            o.Key &&
            SWEEPABLE_KEY.test(o.Key) &&
            o.LastModified &&
            o.LastModified.getTime() < cutoff,
        )
        .map((o) => o.Key as string);
      if (old.length === 0) continue;
      const referenced = await this.repo.referencedKeys(old);
      for (const key of old.filter((k) => !referenced.has(k))) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        objects++;
      }
    } while (token);

    const { aborted: uploads } = await abortMultipartUploadsBefore(client, bucket, prefix, cutoff);

    swept.inc({ kind: 'object' }, objects);
    swept.inc({ kind: 'multipart-upload' }, uploads);
    return { objects, uploads };
  }
}
