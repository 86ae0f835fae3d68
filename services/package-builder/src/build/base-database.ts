import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  HEADER_LENGTH,
  applyDeltaDatabase,
  computeLayout,
  decodeHeader,
} from '@bible/package-format';
import type { BaseGeneration, StoredPackage } from './publish.repository';

async function range(
  s3: { client: S3Client; bucket: string },
  key: string,
  start: number,
  length: number,
  signal?: AbortSignal,
): Promise<Readable> {
  const res = await s3.client.send(
    new GetObjectCommand({
      Bucket: s3.bucket,
      Key: key,
      Range: `bytes=${start}-${start + length - 1}`,
    }),
    { abortSignal: signal },
  );
  if (!(res.Body instanceof Readable)) throw new Error(`no body reading ${key}`);
  return res.Body;
}

/**
 * The rows of the package a client holds, as a package database at `dest`: a stored package's
 * database section, or for a package applied from a delta, the delta's rows merged into its
 * base's exactly as the client's apply did. A delta build needs the base's rows, never its audio.
 */
export async function downloadBaseDatabase(
  s3: { client: S3Client; bucket: string },
  base: BaseGeneration,
  dest: string,
  signal?: AbortSignal,
): Promise<void> {
  if (base.stored) return downloadDatabase(s3, base.stored, dest, signal);
  if (!base.via) throw new Error(`${base.packageId} has neither a stored file nor a delta`);
  const deltaDb = `${dest}.delta`;
  await downloadDatabase(s3, base.via.base, dest, signal);
  await downloadDatabase(s3, base.via.delta, deltaDb, signal);
  applyDeltaDatabase(dest, deltaDb, base.packageId);
}

/**
 * Copies the database section of a published package to `dest` with two range reads (the
 * header, then the section), checking the header against the recorded contentSha256 and the
 * bytes against the manifest's databaseHash.
 */
async function downloadDatabase(
  s3: { client: S3Client; bucket: string },
  base: StoredPackage,
  dest: string,
  signal?: AbortSignal,
): Promise<void> {
  const headBody = await range(s3, base.objectKey, 0, HEADER_LENGTH, signal);
  const chunks: Buffer[] = [];
  for await (const c of headBody as AsyncIterable<Buffer>) chunks.push(c);
  const header = decodeHeader(Buffer.concat(chunks));
  if (header.contentSha256 !== base.contentSha256) {
    throw new Error(
      `${base.objectKey} is not the published ${base.packageId} (contentSha256 differs)`,
    );
  }
  const layout = computeLayout(header);
  const hash = createHash('sha256');
  await pipeline(
    await range(s3, base.objectKey, layout.databaseOffset, layout.databaseLength, signal),
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    }),
    createWriteStream(dest),
  );
  const digest = hash.digest('hex');
  if (digest !== base.databaseHash) {
    throw new Error(
      `database of ${base.packageId} hashes to ${digest}, its manifest says ${base.databaseHash}`,
    );
  }
}
