import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Counter, Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';
import {
  AppError,
  DATA_SOURCE,
  ErrorCode,
  getLogger,
  metricsRegistry,
  withSpan,
} from '@bible/common';
import type { PublishedGenerationRow } from '@bible/packages';
import {
  ClientStalledError,
  ObjectStoreHttpError,
  S3,
  type S3Handle,
  type ObjectSocketResponse,
  openObjectSocketCount,
  openS3Object,
  presignGet,
} from '@bible/storage';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { decideRange, etagMatches, ifRangeAllowsPartial } from './http-range';

const downloadsTotal = new Counter({
  name: 'bible_package_downloads_total',
  help: 'Package download responses by how they were served (cache, generated, redirect, not_modified, partial).',
  labelNames: ['served_from', 'kind'] as const,
  registers: [metricsRegistry],
});
new Gauge({
  name: 'bible_package_download_upstream_streams',
  help: 'Object-store connections currently open for downloads through this gateway.',
  registers: [metricsRegistry],
  collect() {
    this.set(openObjectSocketCount());
  },
});
const downloadBytes = new Counter({
  name: 'bible_package_download_bytes_total',
  help: 'Package bytes sent to clients through the gateway.',
  registers: [metricsRegistry],
});

export interface DownloadOptions {
  redirect?: boolean;
  expiresIn?: number;
}

/**
 * Streams a package from the object store with the client's Range passed through. The object-store
 * connection is closed as soon as the client goes away, so aborted clients never hold one; a slow
 * client pauses the object-store reads (bounded memory) and the number of open object-store
 * connections is capped (DOWNLOAD_MAX_UPSTREAM_STREAMS, then 503 with Retry-After).
 */
@Injectable()
export class DownloadsService {
  constructor(
    @Inject(S3) private readonly s3: S3Handle,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async serve(
    generation: PublishedGenerationRow,
    req: Request,
    res: Response,
    options: DownloadOptions,
  ): Promise<void> {
    const size = Number(generation.size_bytes);
    const etag = `"${generation.content_sha256}"`;
    const lastModified = new Date(generation.created_at);
    const servedFrom =
      Number(generation.download_count) === 0 && generation.cache_hits === 0
        ? 'generated'
        : 'cache';
    const filename = `${generation.package_id}.bible`;

    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
    res.setHeader('X-Served-From', servedFrom);
    // Validators and caching only on the package's own bytes (200, 206) and 304: an error or a
    // redirect to an expiring URL must not be kept by a device cache for a day.
    const setCaching = () => {
      res.setHeader('ETag', etag);
      res.setHeader('Last-Modified', lastModified.toUTCString());
      res.setHeader('Cache-Control', 'private, max-age=86400, immutable');
    };

    if (etagMatches(req.header('if-none-match'), etag, true)) {
      downloadsTotal.inc({ served_from: servedFrom, kind: 'not_modified' });
      setCaching();
      res.status(304).end();
      return;
    }

    const redirect = options.redirect ?? this.config.DOWNLOAD_REDIRECT_DEFAULT;
    if (redirect && req.method === 'GET') {
      const url = await presignGet(this.s3.client, this.s3.bucket, generation.object_key, {
        expiresIn: options.expiresIn ?? this.config.PRESIGN_EXPIRY_SECONDS,
        contentDisposition: `attachment; filename="${filename}"`,
        contentType: 'application/octet-stream',
      });
      downloadsTotal.inc({ served_from: servedFrom, kind: 'redirect' });
      this.meter(generation.id, 1, 0);
      res.status(302).setHeader('Cache-Control', 'no-store').setHeader('Location', url).end();
      return;
    }

    let decision = decideRange(req.header('range'), size);
    if (
      decision.kind !== 'full' &&
      !ifRangeAllowsPartial(req.header('if-range'), etag, lastModified)
    ) {
      decision = { kind: 'full' };
    }
    if (decision.kind === 'unsatisfiable') {
      throw new AppError(
        416,
        ErrorCode.RangeNotSatisfiable,
        `Range not satisfiable for ${size} bytes`,
        [{ field: 'header.range', message: `must start below ${size}` }],
        { 'Content-Range': `bytes */${size}` },
      );
    }
    const start = decision.kind === 'partial' ? decision.start : 0;
    const end = decision.kind === 'partial' ? decision.end : size - 1;
    const length = end - start + 1;

    const status = decision.kind === 'partial' ? 206 : 200;
    const setBodyHeaders = () => {
      setCaching();
      res.status(status);
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', String(length));
      if (decision.kind === 'partial')
        res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    };
    if (req.method === 'HEAD') {
      setBodyHeaders();
      res.end();
      return;
    }

    if (openObjectSocketCount() >= this.config.DOWNLOAD_MAX_UPSTREAM_STREAMS) {
      throw new AppError(
        503,
        ErrorCode.ServiceUnavailable,
        'Too many downloads in progress on this gateway; retry shortly',
        [],
        { 'Retry-After': '2' },
      );
    }
    const abort = new AbortController();
    const onClose = () => abort.abort();
    res.once('close', onClose);
    let object: ObjectSocketResponse | undefined;
    try {
      // Open the object first: a failure here is still a clean JSON error, not a truncated body.
      object = await withSpan(
        's3.GetObject',
        () =>
          openS3Object(this.s3.client, this.s3.bucket, generation.object_key, {
            range: `bytes=${start}-${end}`,
            signal: abort.signal,
            stallTimeoutMs: this.config.DOWNLOAD_CLIENT_STALL_TIMEOUT_SECONDS * 1000,
          }),
        {
          'bible.object_key': generation.object_key,
          'http.request.header.range': `${start}-${end}`,
        },
      );
      if (object.contentLength !== length) {
        object.destroy();
        throw new Error(
          `object store sent ${object.contentLength} bytes for a ${length}-byte range`,
        );
      }
      setBodyHeaders();
      await object.pipeTo(res);
    } catch (error) {
      if (!res.headersSent && error instanceof ObjectStoreHttpError && error.status === 404) {
        // Published but its object is gone (removed by hand or by a lost bucket): not retryable.
        getLogger().error(
          { packageId: generation.package_id, objectKey: generation.object_key },
          'package object missing from the object store',
        );
        throw new AppError(
          410,
          ErrorCode.Gone,
          'The package bytes are no longer stored; request the package again',
        );
      }
      if (!res.headersSent && !abort.signal.aborted) {
        getLogger().error(
          { err: error, packageId: generation.package_id },
          'could not open the package in the object store',
        );
        throw new AppError(
          503,
          ErrorCode.ServiceUnavailable,
          'The package could not be read from the object store',
          [],
          { 'Retry-After': '5' },
        );
      }
      if (error instanceof ClientStalledError)
        getLogger().info(
          { packageId: generation.package_id, reason: error.message },
          'download closed: client stalled',
        );
      else if (!abort.signal.aborted)
        getLogger().error(
          { err: error, packageId: generation.package_id },
          'download stream failed',
        );
      res.destroy();
    } finally {
      res.off('close', onClose);
      const sent = object?.bytesWritten ?? 0;
      downloadBytes.inc(sent);
      downloadsTotal.inc({
        served_from: servedFrom,
        kind: decision.kind === 'partial' ? 'partial' : 'full',
      });
      this.meter(generation.id, start === 0 ? 1 : 0, sent);
    }
  }

  /** Download counters in Postgres, off the response path; a lost update only loses a statistic. */
  private meter(generationId: string, downloads: number, bytes: number): void {
    this.db
      .query(
        `UPDATE package_generations SET download_count = download_count + $2, bytes_served = bytes_served + $3 WHERE id = $1`,
        [generationId, downloads, bytes],
      )
      .catch((error: Error) =>
        getLogger().warn({ err: error.message }, 'could not meter download'),
      );
  }
}
