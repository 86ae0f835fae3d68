// Streamed reads (openS3Object), multipart uploads (uploadMultipart, uploadStream) and the sweep of
// abandoned ones (abortMultipartUploadsBefore) against the real object store of the local stack
// (MinIO), with the S3_* settings `npm test` loads from .stack/stack.env.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ObjectStoreHttpError } from './object-socket';
import { openS3Object } from './open-object';
import { type RandomAccessSource, uploadMultipart, uploadStream } from './multipart-upload';
import { abortMultipartUpload, abortMultipartUploadsBefore } from './multipart-sweep';
import { createS3Client } from './s3';

const env = process.env;
const MIB = 1024 * 1024;

function requireS3(): { bucket: string } {
  for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_BUCKET']) {
    if (!env[name]) throw new Error(`${name} is not set: run the tests with \`npm test\``);
  }
  return { bucket: env.S3_BUCKET as string };
}

const { bucket } = requireS3();
const s3Config = {
  S3_ENDPOINT: env.S3_ENDPOINT,
  S3_REGION: env.S3_REGION ?? 'us-east-1',
  S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID as string,
  S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY as string,
  S3_BUCKET: bucket,
  S3_FORCE_PATH_STYLE: true,
};
const client = createS3Client(s3Config);

/** An in-memory source that counts concurrent reads and can fail at a chosen position. */
function bufferSource(
  bytes: Buffer,
  failAt?: number,
): RandomAccessSource & { maxConcurrent: number } {
  let active = 0;
  const source = {
    size: bytes.length,
    maxConcurrent: 0,
    async readInto(target: Buffer, position: number): Promise<number> {
      active++;
      source.maxConcurrent = Math.max(source.maxConcurrent, active);
      try {
        await new Promise((resolve) => setImmediate(resolve));
        if (failAt !== undefined && position >= failAt) throw new Error('disk went away');
        return bytes.copy(target, 0, position, Math.min(bytes.length, position + target.length));
      } finally {
        active--;
      }
    },
  };
  return source;
}

async function getBytes(key: string): Promise<Buffer> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

async function pendingUploads(key: string): Promise<number> {
  const list = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (list.Uploads ?? []).filter((u) => u.Key === key).length;
}

function collect(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk)); // the reader recycles its buffer after `done`
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

const prefix = `it-object-store/${randomUUID()}`;
const created: string[] = [];
after(async () => {
  await Promise.all(
    created.map((Key) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))),
  );
  client.destroy();
});

describe('uploadMultipart (real object store)', () => {
  it('uploads a multi-part object byte for byte with bounded parallelism', async () => {
    const key = `${prefix}/multi.bin`;
    created.push(key);
    const bytes = randomBytes(17 * MIB + 123);
    const source = bufferSource(bytes);
    const progress: number[] = [];
    await uploadMultipart({
      client,
      bucket,
      key,
      source,
      partSize: 5 * MIB,
      queueSize: 3,
      contentType: 'application/octet-stream',
      metadata: { 'content-sha256': 'abc' },
      onProgress: (n) => progress.push(n),
    });
    assert.ok((await getBytes(key)).equals(bytes));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.Metadata?.['content-sha256'], 'abc');
    assert.equal(head.ContentType, 'application/octet-stream');
    assert.match(head.ETag ?? '', /-4"$/, 'four parts');
    assert.equal(progress.at(-1), bytes.length);
    assert.ok(source.maxConcurrent <= 3);
    assert.equal(await pendingUploads(key), 0);
  });

  it('uploads an object of one part as a single PutObject', async () => {
    const key = `${prefix}/single.bin`;
    created.push(key);
    const bytes = randomBytes(3 * MIB);
    await uploadMultipart({
      client,
      bucket,
      key,
      source: bufferSource(bytes),
      partSize: 5 * MIB,
      queueSize: 2,
    });
    assert.ok((await getBytes(key)).equals(bytes));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.doesNotMatch(head.ETag ?? '', /-\d+"$/, 'not a multipart ETag');
  });

  it('an object replaced as the upload completes fails the upload (read back: size, metadata)', async () => {
    // Another writer (or a faulty store) puts other bytes under the key the moment the upload
    // completes: the upload must not resolve as if its own object were stored.
    const key = `${prefix}/replaced.bin`;
    created.push(key);
    const racing = createS3Client(s3Config);
    let replacement = randomBytes(MIB);
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (
          context.commandName === 'CompleteMultipartUploadCommand' ||
          context.commandName === 'PutObjectCommand'
        )
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: replacement }));
        return result;
      },
      { step: 'initialize', name: 'replaceAfterWrite' },
    );
    const multipart = (size: number, metadata?: Record<string, string>) =>
      uploadMultipart({
        client: racing,
        bucket,
        key,
        source: bufferSource(randomBytes(size)),
        partSize: 5 * MIB,
        queueSize: 2,
        metadata,
      });
    try {
      await assert.rejects(
        multipart(11 * MIB),
        (error: Error) =>
          error.name === 'StoredObjectMismatchError' &&
          /1048576 bytes, expected 11534336/.test(error.message),
      );
      // Same size, other metadata: a single-part upload whose object is replaced.
      replacement = randomBytes(2 * MIB);
      await assert.rejects(
        multipart(2 * MIB, { 'content-sha256': 'mine' }),
        /metadata content-sha256 is missing/,
      );
      // A stream of unknown length, in parts, checked by size.
      await assert.rejects(
        uploadStream({
          client: racing,
          bucket,
          key,
          body: chunked(randomBytes(7 * MIB)),
          partSize: 5 * MIB,
          queueSize: 2,
        }),
        /2097152 bytes, expected 7340032/,
      );
    } finally {
      racing.destroy();
    }
  });

  it('a failing source aborts the upload: no object, no parts left behind', async () => {
    const key = `${prefix}/failing.bin`;
    let uploadId = '';
    await assert.rejects(
      uploadMultipart({
        client,
        bucket,
        key,
        source: bufferSource(randomBytes(26 * MIB), 16 * MIB),
        partSize: 5 * MIB,
        queueSize: 2,
        onCreated: (id) => {
          uploadId = id;
        },
      }),
      /disk went away/,
    );
    assert.ok(uploadId, 'the multipart upload had been created');
    assert.equal(await pendingUploads(key), 0);
    await assert.rejects(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  });

  it('an aborted upload leaves nothing behind either', async () => {
    const key = `${prefix}/aborted.bin`;
    const abort = new AbortController();
    await assert.rejects(
      uploadMultipart({
        client,
        bucket,
        key,
        source: bufferSource(randomBytes(30 * MIB)),
        partSize: 5 * MIB,
        queueSize: 2,
        signal: abort.signal,
        onProgress: () => abort.abort(),
      }),
    );
    assert.equal(await pendingUploads(key), 0);
    await assert.rejects(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  });

  it('rejects parts below the S3 minimum', async () => {
    await assert.rejects(
      uploadMultipart({
        client,
        bucket,
        key: `${prefix}/tiny-parts.bin`,
        source: bufferSource(randomBytes(12 * MIB)),
        partSize: MIB,
        queueSize: 2,
      }),
      RangeError,
    );
  });
});

/** Yields `bytes` in chunks of irregular sizes (a socket's), then fails if `failAt` is passed. */
async function* chunked(bytes: Buffer, failAt?: number): AsyncGenerator<Buffer> {
  const sizes = [1, 65_536, 1_000_003, 16_384, 3 * MIB + 5];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    if (failAt !== undefined && offset >= failAt) throw new Error('client went away');
    const end = Math.min(bytes.length, offset + sizes[i % sizes.length]);
    await new Promise((resolve) => setImmediate(resolve));
    yield bytes.subarray(offset, end);
    offset = end;
  }
}

describe('uploadStream (real object store)', () => {
  it('uploads a stream of unknown length byte for byte, in parts', async () => {
    const key = `${prefix}/stream-multi.bin`;
    created.push(key);
    const bytes = randomBytes(12 * MIB + 321);
    const stored = await uploadStream({
      client,
      bucket,
      key,
      body: chunked(bytes),
      partSize: 5 * MIB,
      queueSize: 2,
      contentType: 'audio/mpeg',
    });
    assert.equal(stored, bytes.length);
    assert.ok((await getBytes(key)).equals(bytes));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentType, 'audio/mpeg');
    assert.match(head.ETag ?? '', /-3"$/, 'three parts');
    assert.equal(await pendingUploads(key), 0);
  });

  it('a stream of exactly one part and a short stream are stored whole', async () => {
    for (const [name, size] of [
      ['stream-exact.bin', 5 * MIB],
      ['stream-short.bin', 100_000],
    ] as const) {
      const key = `${prefix}/${name}`;
      created.push(key);
      const bytes = randomBytes(size);
      const body = chunked(bytes);
      assert.equal(
        await uploadStream({ client, bucket, key, body, partSize: 5 * MIB, queueSize: 2 }),
        size,
      );
      assert.ok((await getBytes(key)).equals(bytes), name);
    }
  });

  it('a failing stream aborts the upload: no object, no parts left behind', async () => {
    const key = `${prefix}/stream-failing.bin`;
    await assert.rejects(
      uploadStream({
        client,
        bucket,
        key,
        body: chunked(randomBytes(20 * MIB), 11 * MIB),
        partSize: 5 * MIB,
        queueSize: 2,
      }),
      /client went away/,
    );
    assert.equal(await pendingUploads(key), 0);
    await assert.rejects(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  });
});

describe('openS3Object (real object store)', () => {
  const key = `${prefix}/read.bin`;
  const bytes = randomBytes(6 * MIB + 7);
  before(async () => {
    created.push(key);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  });

  it('streams a whole object and a range of it', async () => {
    const whole = await openS3Object(client, bucket, key);
    assert.equal(whole.status, 200);
    const all = collect();
    assert.equal(await whole.pipeTo(all.sink), bytes.length);
    assert.ok(all.bytes().equals(bytes));

    const part = await openS3Object(client, bucket, key, { range: 'bytes=1048570-3145727' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 1048570-3145727/${bytes.length}`);
    const some = collect();
    await part.pipeTo(some.sink);
    assert.ok(some.bytes().equals(bytes.subarray(1048570, 3145728)));
  });

  it('a missing object is a 404 NoSuchKey', async () => {
    await assert.rejects(openS3Object(client, bucket, `${prefix}/nope.bin`), (error: unknown) => {
      assert.ok(error instanceof ObjectStoreHttpError);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'NoSuchKey');
      return true;
    });
  });

  it('wrong credentials are refused by the store (the URL is really signed)', async () => {
    const stranger = createS3Client({
      S3_ENDPOINT: env.S3_ENDPOINT,
      S3_REGION: env.S3_REGION ?? 'us-east-1',
      S3_ACCESS_KEY_ID: 'not-a-key',
      S3_SECRET_ACCESS_KEY: 'not-a-secret',
      S3_BUCKET: bucket,
      S3_FORCE_PATH_STYLE: true,
    });
    await assert.rejects(openS3Object(stranger, bucket, key), (error: unknown) => {
      assert.ok(error instanceof ObjectStoreHttpError);
      assert.equal(error.status, 403);
      return true;
    });
    stranger.destroy();
  });
});

describe('abortMultipartUploadsBefore (real object store)', () => {
  it('aborts the uploads started before the cutoff, and only those', async () => {
    const key = `${prefix}/abandoned.bin`;
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
    );
    // MinIO lists the uploads of one exact key, so the prefix is the key itself.
    const anHourAgo = Date.now() - 3_600_000;
    assert.deepEqual(await abortMultipartUploadsBefore(client, bucket, key, anHourAgo), {
      aborted: 0,
      younger: 1,
    });
    assert.equal(await pendingUploads(key), 1, 'a young upload may still be in flight');

    assert.deepEqual(await abortMultipartUploadsBefore(client, bucket, key, Date.now() + 60_000), {
      aborted: 1,
      younger: 0,
    });
    assert.equal(await pendingUploads(key), 0);
    // Gone already: not an error (S3 answers NoSuchUpload, counted as false; MinIO succeeds).
    await assert.doesNotReject(abortMultipartUpload(client, bucket, key, UploadId as string));
  });
});
