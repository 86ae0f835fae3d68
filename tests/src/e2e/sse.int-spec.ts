// Build status as Server-Sent Events (issue 14, item 8): pushed from the gateway's QueueEvents
// subscription, with Last-Event-ID resuming where a client left off.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type RunningService, apiClient, startService, tokenFor } from '@bible/testing';
import { seededTestDatabase } from '../support/seeded-database';

const TEXT = { packageType: 'text', languageEntityId: 'eng', textVersionId: 'web' };
const AUDIO = { packageType: 'audio', languageEntityId: 'eng', audioVersionId: 'web-audio-john' };

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads an SSE response to its end (or `limit` events) into events. */
async function readEvents(res: Response, limit = Infinity): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = {};
      for (const line of block.split('\n')) {
        const [field, ...rest] = line.split(':');
        const value = rest.join(':').replace(/^ /, '');
        if (field === 'id' || field === 'event' || field === 'data') event[field] = value;
      }
      if (event.data !== undefined) events.push(event);
      if (events.length >= limit) {
        await reader.cancel();
        return events;
      }
    }
  }
  return events;
}

describe('build status as Server-Sent Events', { timeout: 5 * 60_000 }, () => {
  let env: Record<string, string>;
  let gateway: RunningService;
  let builder: RunningService;
  let token: string;

  before(async () => {
    env = await seededTestDatabase();
    gateway = await startService('api-gateway', {
      ...env,
      // Build rate-limit windows live in the shared Redis for an hour: a second run of the
      // suites within the hour must not be refused.
      RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
      RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
    });
    token = await tokenFor(env.JWT_SECRET, 'sse-user');
  });

  after(async () => {
    await Promise.all([gateway?.stop('SIGKILL'), builder?.stop('SIGKILL')]);
  });

  const open = (jobId: string, lastEventId?: string) =>
    fetch(`${gateway.url}/v1/packages/jobs/${jobId}/events`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(lastEventId && { 'last-event-id': lastEventId }),
      },
    });

  it('unknown jobs are 404 JSON, not a stream', async () => {
    const res = await open('pkg-unknown');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  });

  it('pushes every change until completed, and resumes after Last-Event-ID', async () => {
    const api = apiClient(gateway.url, token);
    const accepted = await api.post<{ jobId: string }>('/v1/packages', TEXT);
    assert.equal(accepted.status, 202, accepted.text);
    const { jobId } = accepted.body;

    // Connected while the job waits for a builder: the first event is the queued status.
    const res = await open(jobId);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const all = readEvents(res);
    await new Promise((r) => setTimeout(r, 500));
    builder = await startService('package-builder', env);
    const events = await all;

    assert.ok(events.length >= 3, JSON.stringify(events));
    assert.equal(events[0].event, 'progress');
    assert.equal((JSON.parse(events[0].data as string) as { status: string }).status, 'queued');
    const last = events[events.length - 1];
    assert.equal(last.event, 'completed');
    const done = JSON.parse(last.data as string) as { packageId?: string; progress: number };
    assert.ok(done.packageId);
    assert.equal(done.progress, 100);
    const progress = events.map(
      (e) => (JSON.parse(e.data as string) as { progress: number }).progress,
    );
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'progress never goes back',
    );
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'ids are distinct');

    // A client that saw the end gets nothing more; one that missed it gets only the end.
    assert.deepEqual(await readEvents(await open(jobId, last.id)), []);
    const resumed = await readEvents(await open(jobId, events[1].id));
    assert.deepEqual(
      resumed.map((e) => e.event),
      ['completed'],
    );
  });
  it('ends a stream after SSE_MAX_STREAM_SECONDS; the reconnect loses nothing', async () => {
    // A gateway of its own on a queue no builder reads: the job stays queued.
    const short = await startService('api-gateway', {
      ...env,
      QUEUE_PREFIX: `${env.QUEUE_PREFIX}-sse`.slice(0, 40),
      SSE_MAX_STREAM_SECONDS: '1',
      RATE_LIMIT_BUILDS_PER_USER_HOUR: '1000',
      RATE_LIMIT_BUILDS_PER_IP_HOUR: '1000',
    });
    try {
      const accepted = await apiClient(short.url, token).post<{ jobId: string }>(
        '/v1/packages',
        AUDIO,
      );
      assert.equal(accepted.status, 202, accepted.text);
      const follow = async (lastEventId?: string) => {
        const started = Date.now();
        const res = await fetch(`${short.url}/v1/packages/jobs/${accepted.body.jobId}/events`, {
          headers: {
            authorization: `Bearer ${token}`,
            ...(lastEventId && { 'last-event-id': lastEventId }),
          },
        });
        assert.equal(res.status, 200);
        const events = await readEvents(res);
        return { events, ms: Date.now() - started };
      };
      const first = await follow();
      assert.deepEqual(
        first.events.map((e) => e.event),
        ['progress'],
      );
      assert.ok(first.ms >= 900 && first.ms < 10_000, `ended after ${first.ms} ms`);
      // Nothing changed since: the reconnect shows nothing and ends again.
      const again = await follow(first.events[0].id);
      assert.deepEqual(again.events, []);
      assert.ok(again.ms >= 900, `ended after ${again.ms} ms`);
    } finally {
      await short.stop('SIGKILL');
    }
  });
});
