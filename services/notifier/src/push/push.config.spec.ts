import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pushSendJobId } from '@bible/common';
import { retryDelayMs, sendLimits } from './push.config';

describe('push send limits', () => {
  it('batches never exceed the rate, so the job limiter bounds notifications per second', () => {
    assert.deepEqual(sendLimits(5_000, 20, 100), {
      batch: 20,
      jobsPerSecond: 250,
      jobConcurrency: 5,
    });
    // A rate below the batch size shrinks the batch: 5 jobs of 1 a second, not 1 job of 20.
    assert.deepEqual(sendLimits(5, 20, 100), { batch: 5, jobsPerSecond: 1, jobConcurrency: 20 });
    // Never below one job at a time, whatever the concurrency.
    assert.equal(sendLimits(1_000, 50, 10).jobConcurrency, 1);
    for (const [rate, batch] of [
      [1, 1],
      [7, 20],
      [999, 20],
      [1_000, 500],
    ])
      assert.ok(
        sendLimits(rate, batch, 100).jobsPerSecond * sendLimits(rate, batch, 100).batch <= rate,
      );
  });

  it('job ids are deterministic: one send keeps its readable id, a batch a digest of its set', () => {
    const a = { notificationId: '00000000-0000-0000-0000-00000000000a', attempt: 1 };
    const b = { notificationId: '00000000-0000-0000-0000-00000000000b', attempt: 1 };
    assert.equal(pushSendJobId([a]), `ps-${a.notificationId}-1`);
    assert.equal(pushSendJobId([{ ...a, attempt: 2 }]), `ps-${a.notificationId}-2`);
    assert.equal(pushSendJobId([a, b]), pushSendJobId([{ ...a }, { ...b }]));
    assert.match(pushSendJobId([a, b]), /^psb-[\w-]{32}$/);
    assert.notEqual(pushSendJobId([a, b]), pushSendJobId([a, { ...b, attempt: 2 }]));
  });

  it('retry delays follow Retry-After, else grow fourfold up to an hour', () => {
    assert.equal(retryDelayMs(1, 5_000, 12_000), 12_000);
    assert.equal(retryDelayMs(1, 5_000, null), 5_000);
    assert.equal(retryDelayMs(3, 5_000, null), 80_000);
    assert.equal(retryDelayMs(9, 5_000, null), 3_600_000);
  });
});
