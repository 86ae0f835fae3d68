import {
  CreateBucketCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/** Creates the bucket when it does not exist yet (the local stack normally creates it). */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

export interface LocalObject {
  key: string;
  file: string;
  size: number;
  sha256: string;
  contentType: string;
}

/**
 * Uploads `object` unless the store already holds the same bytes (same size and the sha256 we
 * recorded in its metadata at upload). Returns whether it uploaded.
 */
export async function putIfChanged(
  s3: S3Client,
  bucket: string,
  object: LocalObject,
): Promise<boolean> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.key }));
    if (head.ContentLength === object.size && head.Metadata?.sha256 === object.sha256) return false;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: object.key,
      Body: createReadStream(object.file),
      ContentLength: object.size,
      ContentType: object.contentType,
      Metadata: { sha256: object.sha256 },
    }),
  );
  return true;
}
