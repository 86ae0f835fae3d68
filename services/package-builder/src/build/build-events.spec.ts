import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventDataSchemas } from '@bible/common';
import { AudioSourceError } from './audio-fetcher';
import { failureCode, isPermanent, packageFailedEvents, packageReadyEvents } from './build-events';

const part = (n: number | null, total: number | null) => ({
  packageId: `pkg-${n ?? 0}`,
  packageKey: 'key-1',
  packageType: 'audio' as const,
  partNumber: n,
  totalParts: total,
  sizeBytes: 1_000 + (n ?? 0),
  contentSha256: 'ab'.repeat(32),
  contentRevision: '812.44',
});
const uuid = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;

describe('package.ready events', () => {
  it('one per part of a series, with every request and requester', () => {
    const events = packageReadyEvents(
      [part(1, 2), part(2, 2)],
      [
        { id: uuid(2), requested_by: 'bob' },
        { id: uuid(1), requested_by: 'alice' },
        { id: uuid(3), requested_by: 'alice' },
      ],
    );
    assert.equal(events.length, 2);
    assert.deepEqual(
      events.map((e) => [e.type, e.data.packageId, e.data.part]),
      [
        ['package.ready', 'pkg-1', 1],
        ['package.ready', 'pkg-2', 2],
      ],
    );
    for (const e of events) {
      assert.equal(e.userId, null, 'two requesters: no single user');
      assert.deepEqual(e.data.requestedBy, ['alice', 'bob']);
      assert.deepEqual(e.data.requestIds, [uuid(1), uuid(2), uuid(3)]);
      assert.equal(eventDataSchemas['package.ready'].safeParse(e.data).success, true);
    }
  });

  it('a single package names its one requester as the event user', () => {
    const [event] = packageReadyEvents(
      [part(null, null)],
      [{ id: uuid(1), requested_by: 'carol' }],
    );
    assert.equal(event.userId, 'carol');
    assert.equal(event.data.part, null);
    assert.equal(eventDataSchemas['package.ready'].safeParse(event.data).success, true);
  });
});

describe('package.failed events', () => {
  it('none when no request row was failed by this call (already recorded)', () => {
    assert.deepEqual(
      packageFailedEvents('job', { reason: 'x', errorCode: 'BUILD_ERROR', attempts: 4 }, []),
      [],
    );
  });

  it('carries the recorded reason, code and attempts', () => {
    const [event] = packageFailedEvents(
      'pkg-key-1-812.44',
      { reason: 'media file mf-1 is missing', errorCode: 'AUDIO_MISSING', attempts: 1 },
      [{ id: uuid(1), requested_by: 'dave', package_key: 'key-1' }],
    );
    assert.equal(event.type, 'package.failed');
    assert.equal(event.userId, 'dave');
    assert.deepEqual(event.data, {
      packageKey: 'key-1',
      jobId: 'pkg-key-1-812.44',
      requestIds: [uuid(1)],
      requestedBy: ['dave'],
      reason: 'media file mf-1 is missing',
      errorCode: 'AUDIO_MISSING',
      attempts: 1,
    });
    assert.equal(eventDataSchemas['package.failed'].safeParse(event.data).success, true);
  });
});

describe('failure classes', () => {
  it('codes and permanence', () => {
    const cases: [unknown, string, boolean][] = [
      [new AudioSourceError('mf', 'missing', 'gone'), 'AUDIO_MISSING', true],
      [new AudioSourceError('mf', 'hash_mismatch', 'bad'), 'AUDIO_HASH_MISMATCH', true],
      [new AudioSourceError('mf', 'unreadable', 'reset'), 'AUDIO_UNREADABLE', false],
      [new Error('text version WEB no longer exists'), 'CONTENT_UNAVAILABLE', true],
      [new Error('the request selects no books with content'), 'NO_BOOKS', true],
      [new Error('job stalled more than allowable limit'), 'STALLED', false],
      [
        new Error(
          'part 2 of the series holds other books at this revision; request the full parts',
        ),
        'DELTA_NOT_POSSIBLE',
        true,
      ],
      [new Error('connect ECONNREFUSED'), 'BUILD_ERROR', false],
    ];
    for (const [error, code, permanent] of cases) {
      assert.equal(failureCode(error), code);
      assert.equal(isPermanent(error), permanent, code);
    }
  });
});
