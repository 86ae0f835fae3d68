import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/** Bytes addressable by position, read into caller-owned buffers (e.g. a prepared package). */
export interface RandomAccessSource {
  readonly size: number;
  /** Fills `target` from `position`; resolves with the bytes read (fewer only at the end). */
  readInto(target: Buffer, position: number): Promise<number>;
}

export interface MultipartUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  source: RandomAccessSource;
  /** S3 requires at least 5 MiB for every part but the last. */
  partSize: number;
  /** Parts in flight; memory is `queueSize × partSize`, allocated once. */
  queueSize: number;
  contentType?: string;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /** Called after each part with the bytes uploaded so far. */
  onProgress?: (uploaded: number) => void;
  /** Called with the upload id once the multipart upload exists (e.g. to register it for sweeping). */
  onCreated?: (uploadId: string) => void | Promise<void>;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

/**
 * Uploads `source` as one object with S3 multipart, each part read straight into one of
 * `queueSize` reused buffers. Unlike `@aws-sdk/lib-storage`'s `Upload` over a stream, nothing is
 * regrouped with `Buffer.concat`, so a 1 GiB package allocates `queueSize` buffers instead of
 * 1 GiB of short-lived ones (which kept V8 in back-to-back full GCs: docs/benchmarks.md).
 * Any failure aborts the multipart upload, so no parts are left behind; the object appears only
 * when CompleteMultipartUpload succeeds. Objects of one part or less are a single PutObject.
 */
export async function uploadMultipart(options: MultipartUploadOptions): Promise<void> {
  const { client, bucket, key, source, signal } = options;
  const partSize = Math.max(options.partSize, Math.ceil(source.size / MAX_PARTS));
  if (partSize < MIN_PART_SIZE) throw new RangeError(`partSize must be at least ${MIN_PART_SIZE}`);
  const common = {
    Bucket: bucket,
    Key: key,
    ContentType: options.contentType,
    Metadata: options.metadata,
  };

  if (source.size <= partSize) {
    const body = Buffer.allocUnsafe(source.size);
    const n = await source.readInto(body, 0);
    if (n !== source.size) throw new Error(`source gave ${n} of ${source.size} bytes`);
    await client.send(new PutObjectCommand({ ...common, Body: body, ContentLength: n }), {
      abortSignal: signal,
    });
    options.onProgress?.(n);
    return;
  }

  const created = await client.send(new CreateMultipartUploadCommand(common), {
    abortSignal: signal,
  });
  const uploadId = created.UploadId as string;
  try {
    await options.onCreated?.(uploadId);
    const partCount = Math.ceil(source.size / partSize);
    const parts = new Array<CompletedPart>(partCount);
    let nextPart = 0;
    let uploaded = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      const buffer = Buffer.allocUnsafe(partSize);
      while (!failed && nextPart < partCount) {
        const index = nextPart++;
        const position = index * partSize;
        const length = Math.min(partSize, source.size - position);
        const n = await source.readInto(buffer.subarray(0, length), position);
        if (n !== length) throw new Error(`source gave ${n} of ${length} bytes at ${position}`);
        signal?.throwIfAborted();
        // The SDK is done with the body once send() settles, so the buffer is reused next round.
        const result = await client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: index + 1,
            Body: buffer.subarray(0, length),
            ContentLength: length,
          }),
          { abortSignal: signal },
        );
        parts[index] = { PartNumber: index + 1, ETag: result.ETag };
        uploaded += length;
        options.onProgress?.(uploaded);
      }
    };
    // Settle every worker before aborting: a part still in flight could otherwise land after
    // the abort and linger.
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(options.queueSize, partCount) }, () =>
        worker().catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal: signal },
    );
  } catch (error) {
    // Not with `signal`: an aborted build must still remove its parts.
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
    throw error;
  }
}
