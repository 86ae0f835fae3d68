import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
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
 * Resolves only once the store reports the object with the source's size and metadata.
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
    await verifyStored(options, source.size);
    return;
  }

  const created = await client.send(new CreateMultipartUploadCommand(common), {
    abortSignal: signal,
  });
  const uploadId = created.UploadId as string;
  const target = { client, bucket, key, uploadId };
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
        parts[index] = await sendPart(target, index + 1, buffer.subarray(0, length), signal);
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
    await completeUpload(target, parts, signal);
  } catch (error) {
    await abortUpload(target);
    throw error;
  }
  await verifyStored(options, source.size);
}

/** The object the store holds under a key is not the one just uploaded there. */
export class StoredObjectMismatchError extends Error {
  constructor(key: string, detail: string) {
    super(`object store holds a different ${key}: ${detail}`);
    this.name = 'StoredObjectMismatchError';
  }
}

/**
 * Reads back the object's size and metadata (one HeadObject), so a caller records or publishes
 * only what the store reports holding: a concurrent writer to the key or a faulty store fails
 * the upload instead of being served.
 */
async function verifyStored(
  o: Pick<MultipartUploadOptions, 'client' | 'bucket' | 'key' | 'metadata' | 'signal'>,
  size: number,
): Promise<void> {
  const head = await o.client.send(new HeadObjectCommand({ Bucket: o.bucket, Key: o.key }), {
    abortSignal: o.signal,
  });
  if (head.ContentLength !== size)
    throw new StoredObjectMismatchError(o.key, `${head.ContentLength} bytes, expected ${size}`);
  for (const [name, value] of Object.entries(o.metadata ?? {})) {
    const stored = head.Metadata?.[name.toLowerCase()];
    if (stored !== value)
      throw new StoredObjectMismatchError(o.key, `metadata ${name} is ${stored ?? 'missing'}`);
  }
}

export interface StreamUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** Bytes of unknown length, e.g. a request body; read with backpressure. */
  body: AsyncIterable<Uint8Array>;
  /** S3 requires at least 5 MiB for every part but the last. */
  partSize: number;
  /** Parts in flight while the next one fills; memory is `(queueSize + 1) × partSize`. */
  queueSize: number;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * Uploads a stream of unknown length as one object: chunks are copied into `queueSize + 1` reused
 * part buffers, and reading pauses while `queueSize` parts are in flight and the next is full.
 * Same guarantees as `uploadMultipart`: a failing stream or part aborts the multipart upload (no
 * parts left behind), the object appears only on completion, and a body of at most one part is a
 * single PutObject. Resolves with the number of bytes stored, once the store reports that size.
 */
export async function uploadStream(options: StreamUploadOptions): Promise<number> {
  const { client, bucket, key, partSize, signal } = options;
  if (partSize < MIN_PART_SIZE) throw new RangeError(`partSize must be at least ${MIN_PART_SIZE}`);
  const common = { Bucket: bucket, Key: key, ContentType: options.contentType };
  const free: Buffer[] = Array.from({ length: options.queueSize + 1 }, () =>
    Buffer.allocUnsafe(partSize),
  );
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let target: PartTarget | undefined;
  let failure: { error: unknown } | undefined;
  let current = free.pop() as Buffer;
  let filled = 0;
  let total = 0;

  const dispatch = async (): Promise<void> => {
    if (!target) {
      const created = await client.send(new CreateMultipartUploadCommand(common), {
        abortSignal: signal,
      });
      target = { client, bucket, key, uploadId: created.UploadId as string };
    }
    const buffer = current;
    const partNumber = parts.length + 1;
    parts.push({ PartNumber: partNumber });
    const sending: Promise<void> = sendPart(target, partNumber, buffer.subarray(0, filled), signal)
      .then(
        (part) => {
          parts[partNumber - 1] = part;
          free.push(buffer);
        },
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    filled = 0;
    while (free.length === 0 && !failure) await Promise.race(inFlight);
    if (failure) throw failure.error;
    current = free.pop() as Buffer;
  };

  try {
    for await (const chunk of options.body) {
      for (let offset = 0; offset < chunk.length;) {
        const n = Math.min(chunk.length - offset, partSize - filled);
        current.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        total += n;
        if (filled === partSize) await dispatch();
      }
    }
    if (!target) {
      await client.send(
        new PutObjectCommand({
          ...common,
          Body: current.subarray(0, filled),
          ContentLength: filled,
        }),
        { abortSignal: signal },
      );
      await verifyStored(options, total);
      return total;
    }
    if (filled > 0) await dispatch();
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    await completeUpload(target, parts, signal);
  } catch (error) {
    // Settle every part before aborting: one still in flight could land after the abort.
    await Promise.all(inFlight);
    if (target) await abortUpload(target);
    throw error;
  }
  await verifyStored(options, total);
  return total;
}

interface PartTarget {
  client: S3Client;
  bucket: string;
  key: string;
  uploadId: string;
}

async function sendPart(
  { client, bucket, key, uploadId }: PartTarget,
  partNumber: number,
  body: Buffer,
  signal: AbortSignal | undefined,
): Promise<CompletedPart> {
  const result = await client.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      Body: body,
      ContentLength: body.length,
    }),
    { abortSignal: signal },
  );
  return { PartNumber: partNumber, ETag: result.ETag };
}

async function completeUpload(
  { client, bucket, key, uploadId }: PartTarget,
  parts: CompletedPart[],
  signal: AbortSignal | undefined,
): Promise<void> {
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts },
    }),
    { abortSignal: signal },
  );
}

/** Not with the caller's signal: an aborted upload must still remove its parts. */
async function abortUpload({ client, bucket, key, uploadId }: PartTarget): Promise<void> {
  await client
    .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
    .catch(() => undefined);
}
