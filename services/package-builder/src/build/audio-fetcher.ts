import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { type WriteStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { withSpan } from '@bible/common';
import { ObjectStoreHttpError, type ObjectSocketResponse, openS3Object } from '@bible/storage';
import type { SnapshotMediaFile } from './content-snapshot';

/** 1 MiB socket reads: a few of them per file, each hashed and written as it arrives. */
const READ_BUFFER = 1024 * 1024;

/**
 * Hashes each chunk and hands it to a file stream, calling back only once that chunk is written:
 * the object reader recycles its buffer in that callback, so nothing is copied on the way.
 */
class HashingFileSink extends Writable {
  size = 0;
  private readonly hash = createHash('sha256');
  private readonly file: WriteStream;

  constructor(path: string) {
    // One chunk queued at most: with the one being read, two pooled buffers per file in flight.
    super({ highWaterMark: READ_BUFFER });
    this.file = createWriteStream(path);
    this.file.once('error', (error) => this.destroy(error));
  }

  /** Hex SHA-256 of everything written; call once, after the last write. */
  digest(): string {
    return this.hash.digest('hex');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (e?: Error | null) => void) {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.file.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.file.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.file.destroy();
    callback(error);
  }
}

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
  mediaFile: SnapshotMediaFile;
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
  files: SnapshotMediaFile[];
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
    let object: ObjectSocketResponse;
    try {
      object = await openS3Object(options.s3, options.bucket, file.remote_path, {
        signal: options.signal,
        bufferSize: READ_BUFFER,
      });
    } catch (error) {
      if (error instanceof ObjectStoreHttpError && error.status === 404) {
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
    const sink = new HashingFileSink(path);
    try {
      await object.pipeTo(sink);
    } catch (error) {
      sink.destroy();
      if (options.signal?.aborted) throw error;
      throw new AudioSourceError(
        file.id,
        'unreadable',
        `media file ${file.id} (${file.remote_path}) could not be read: ${(error as Error).message}`,
      );
    }
    const size = sink.size;
    const sha256 = sink.digest();
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
      const file = options.files[index];
      try {
        // One span per media file (the socket reader is not seen by the HTTP instrumentation).
        await withSpan('s3.GetObject', () => fetchOne(index), {
          'bible.media_file_id': file.id,
          'bible.object_key': file.remote_path,
        });
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
