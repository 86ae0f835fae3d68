import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  type ObjectSocketOptions,
  type ObjectSocketResponse,
  openObjectSocket,
} from './object-socket';

/**
 * Opens one object for a streamed read: the SDK signs a short-lived URL (credentials, region,
 * path or virtual-host style stay the SDK's concern) and the bytes come over a plain socket into
 * pooled buffers (object-socket.ts says why not through the SDK's HTTP client).
 */
export async function openS3Object(
  client: S3Client,
  bucket: string,
  key: string,
  options: ObjectSocketOptions = {},
): Promise<ObjectSocketResponse> {
  const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
    expiresIn: 300,
  });
  return openObjectSocket(new URL(url), options);
}
