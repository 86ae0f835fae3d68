import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MediaFileRow } from './content-snapshot';

export class AudioSourceError extends Error {
  constructor(
    readonly mediaFileId: string,
    readonly reason: 'missing' | 'size_mismatch' | 'hash_mismatch' | 'unreadable',
    message: string,
  ) {
    super(message);
    this.name = 'AudioSourceError';
  }
}

export interface FetchedAudio {
  mediaFile: MediaFileRow;
  path: string;
  size: number;
  sha256: string;
}

/**
 * Streams each media file from the object store to a temp file with bounded concurrency, hashing
 * as it goes, and checks size and sha256 against the catalog: a corrupt or missing source fails
 * the build naming the media file (or, when the request allows partial packages, is reported).
 */
export async function fetchAudio(options: {
  s3: S3Client;
  bucket: string;
  files: MediaFileRow[];
  dir: string;
  concurrency: number;
  allowPartial: boolean;
  signal?: AbortSignal;
  onFile?: (done: number, total: number) => void;
}): Promise<{ fetched: FetchedAudio[]; missing: AudioSourceError[] }> {
  const results = new Array<FetchedAudio | undefined>(options.files.length);
  const missing: AudioSourceError[] = [];
  let next = 0;
  let done = 0;

  const fetchOne = async (index: number): Promise<void> => {
    const file = options.files[index];
    const path = join(options.dir, `audio-${String(index).padStart(5, '0')}`);
    let body: Readable;
    try {
      const object = await options.s3.send(
        new GetObjectCommand({ Bucket: options.bucket, Key: file.remote_path }),
        {
          abortSignal: options.signal,
        },
      );
      body = object.Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') {
        throw new AudioSourceError(
          file.id,
          'missing',
          `media file ${file.id} (${file.remote_path}) is missing from the object store`,
        );
      }
      throw new AudioSourceError(
        file.id,
        'unreadable',
        `media file ${file.id} (${file.remote_path}) could not be read: ${(error as Error).message}`,
      );
    }
    const hash = createHash('sha256');
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    await pipeline(body, createWriteStream(path));
    const sha256 = hash.digest('hex');
    if (size !== Number(file.file_size)) {
      throw new AudioSourceError(
        file.id,
        'size_mismatch',
        `media file ${file.id} (${file.remote_path}) has ${size} bytes, the catalog says ${file.file_size}`,
      );
    }
    if (sha256 !== file.sha256) {
      throw new AudioSourceError(
        file.id,
        'hash_mismatch',
        `media file ${file.id} (${file.remote_path}) is corrupt: sha256 ${sha256} does not match the catalog`,
      );
    }
    results[index] = { mediaFile: file, path, size, sha256 };
  };

  const worker = async (): Promise<void> => {
    while (next < options.files.length) {
      const index = next++;
      try {
        await fetchOne(index);
      } catch (error) {
        if (
          !(error instanceof AudioSourceError) ||
          !options.allowPartial ||
          error.reason === 'unreadable'
        )
          throw error;
        missing.push(error);
      }
      options.onFile?.(++done, options.files.length);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.files.length) }, worker),
  );
  return { fetched: results.filter((r): r is FetchedAudio => r !== undefined), missing };
}
