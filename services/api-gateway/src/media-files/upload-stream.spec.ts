import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { BodyTooLargeError, MeteredStream, peek } from './upload-stream';

describe('peek', () => {
  it('returns the first bytes and leaves them in the stream', async () => {
    const stream = new PassThrough();
    stream.write(Buffer.from('ab'));
    setTimeout(() => stream.end(Buffer.from('cdef')), 5);
    const head = await peek(stream, 4);
    assert.equal(head.toString(), 'abcdef'.slice(0, head.length));
    assert.ok(head.length >= 4);
    assert.equal((await buffer(stream)).toString(), 'abcdef');
  });

  it('returns what there is when the stream is shorter', async () => {
    const head = await peek(Readable.from([Buffer.from('xy')]), 10);
    assert.equal(head.toString(), 'xy');
  });
});

describe('MeteredStream', () => {
  it('counts and hashes what passes', async () => {
    const meter = new MeteredStream(100);
    const out = buffer(Readable.from([Buffer.from('hello '), Buffer.from('world')]).pipe(meter));
    assert.equal((await out).toString(), 'hello world');
    assert.equal(meter.bytes, 11);
    assert.equal(meter.digest(), createHash('sha256').update('hello world').digest('hex'));
  });

  it('fails as soon as the limit is passed', async () => {
    const meter = new MeteredStream(8);
    const seen: number[] = [];
    meter.on('data', (c: Buffer) => seen.push(c.length));
    const failed = new Promise<Error>((resolve) => meter.on('error', resolve));
    meter.write(Buffer.alloc(5));
    meter.write(Buffer.alloc(5));
    assert.ok((await failed) instanceof BodyTooLargeError);
    assert.deepEqual(seen, [5]);
  });
});
