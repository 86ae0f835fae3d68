import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/** True when the upload was aborted; false when it no longer exists (completed or aborted). */
export async function abortMultipartUpload(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<boolean> {
  try {
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
    );
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchUpload') return false;
    throw error;
  }
}

/**
 * Aborts the incomplete multipart uploads under `prefix` started before `cutoff` (epoch ms),
 * listing them page by page; younger ones may belong to an upload still in flight. Resolves with
 * the number aborted and the number left because they are younger (a caller keeps tracking those).
 * MinIO lists only the uploads of one exact key, S3 those under a prefix.
 */
export async function abortMultipartUploadsBefore(
  client: S3Client,
  bucket: string,
  prefix: string,
  cutoff: number,
): Promise<{ aborted: number; younger: number }> {
  let aborted = 0;
  let younger = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || !upload.Initiated) continue;
      if (upload.Initiated.getTime() >= cutoff) {
        younger++;
        continue;
      }
      if (await abortMultipartUpload(client, bucket, upload.Key, upload.UploadId)) aborted++;
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (keyMarker);
  return { aborted, younger };
}
