import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  type ObjectSocketOptions,
  type ObjectSocketResponse,
  openObjectSocket,
} from './object-socket';

export interface PresignGetOptions {
  expiresIn: number;
  /** Response headers the store sets on the download (e.g. a file name for browsers). */
  contentDisposition?: string;
  contentType?: string;
}

/**
 * A URL anyone holding it may GET the object with until it expires; the SDK signs it, so
 * credentials, region and path or virtual-host style stay the SDK's concern.
 */
export function presignGet(
  client: S3Client,
  bucket: string,
  key: string,
  options: PresignGetOptions,
): Promise<string> {
  return getSignedUrl(
    client,
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ResponseContentDisposition: options.contentDisposition,
      ResponseContentType: options.contentType,
    }),
    { expiresIn: options.expiresIn },
  );
}

/**
 * Opens one object for a streamed read: a short-lived presigned URL, and the bytes come over a
 * plain socket into pooled buffers (object-socket.ts says why not through the SDK's HTTP client).
 */
export async function openS3Object(
  client: S3Client,
  bucket: string,
  key: string,
  options: ObjectSocketOptions = {},
): Promise<ObjectSocketResponse> {
  const url = await presignGet(client, bucket, key, { expiresIn: 300 });
  return openObjectSocket(new URL(url), options);
}
