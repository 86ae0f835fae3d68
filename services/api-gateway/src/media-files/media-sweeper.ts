import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Counter } from 'prom-client';
import { S3, type S3Handle, getLogger, metricsRegistry } from '@bible/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { ContentCache } from '../content/content-cache';
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
 * belong to an upload still in flight). Runs on an interval in every gateway; a Redis lock makes
 * one replica do the work per interval.
 */
@Injectable()
export class MediaSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly repo: MediaFilesRepository,
    private readonly cache: ContentCache,
    @Inject(S3) private readonly s3: S3Handle,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.MEDIA_SWEEP_INTERVAL_MS;
    if (every <= 0) return;
    this.timer = setInterval(() => void this.tick(every), every);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(every: number): Promise<void> {
    if (this.running) return;
    if (!(await this.cache.tryLock('media-sweeper', Math.max(1_000, every - 500)))) return;
    this.running = this.sweep()
      .then((result) => {
        if (result.objects + result.uploads > 0) getLogger().info(result, 'swept orphaned media');
      })
      .catch((error: Error) => getLogger().warn({ err: error.message }, 'media sweep failed'))
      .finally(() => (this.running = undefined));
    await this.running;
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

    let uploads = 0;
    let keyMarker: string | undefined;
    let uploadMarker: string | undefined;
    do {
      const page = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || (upload.Initiated?.getTime() ?? now) >= cutoff)
          continue;
        await client.send(
          new AbortMultipartUploadCommand({
            Bucket: bucket,
            Key: upload.Key,
            UploadId: upload.UploadId,
          }),
        );
        uploads++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);

    swept.inc({ kind: 'object' }, objects);
    swept.inc({ kind: 'multipart-upload' }, uploads);
    return { objects, uploads };
  }
}
