import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Queue } from 'bullmq';
import { metricsRegistry } from '../telemetry/metrics';
import { reportQueueDepth, stopReportingQueueDepth } from './depth';

/** A queue as the gauge sees it: a name and job counts (the Redis side is BullMQ's). */
function queue(name: string, counts: Record<string, number> | Error): Queue {
  return {
    name,
    getJobCounts: () =>
      counts instanceof Error ? Promise.reject(counts) : Promise.resolve(counts),
  } as unknown as Queue;
}

const line = (text: string, q: string, state: string) =>
  new RegExp(`^bible_queue_depth\\{queue="${q}",state="${state}"\\} (\\d+)$`, 'm').exec(text)?.[1];

describe('reportQueueDepth', () => {
  it('exports every reported queue by state, once per name, and stops on request', async () => {
    const build = queue('package-build', {
      waiting: 3,
      prioritized: 1,
      active: 2,
      delayed: 4,
      failed: 0,
    });
    const other = queue('push-fcm', {
      waiting: 7,
      prioritized: 0,
      active: 0,
      delayed: 0,
      failed: 1,
    });
    reportQueueDepth(build);
    reportQueueDepth(other);
    reportQueueDepth(build); // a second reporter of the same queue registers nothing new
    const text = await metricsRegistry.metrics();
    assert.equal(text.match(/^# TYPE bible_queue_depth gauge$/gm)?.length, 1);
    assert.equal(line(text, 'package-build', 'waiting'), '3');
    assert.equal(line(text, 'package-build', 'prioritized'), '1');
    assert.equal(line(text, 'package-build', 'delayed'), '4');
    assert.equal(line(text, 'push-fcm', 'waiting'), '7');
    stopReportingQueueDepth(other);
    stopReportingQueueDepth(build);
  });

  it('keeps the last values while Redis is unreachable', async () => {
    const up = queue('maintenance', {
      waiting: 5,
      prioritized: 0,
      active: 0,
      delayed: 0,
      failed: 0,
    });
    reportQueueDepth(up);
    assert.equal(line(await metricsRegistry.metrics(), 'maintenance', 'waiting'), '5');
    stopReportingQueueDepth(up);
    const down = queue('maintenance', new Error('connect ECONNREFUSED'));
    reportQueueDepth(down);
    assert.equal(line(await metricsRegistry.metrics(), 'maintenance', 'waiting'), '5');
    stopReportingQueueDepth(down);
  });
});
