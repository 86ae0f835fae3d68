import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SCHEDULE,
  MAX_RETRY_AFTER_MS,
  decideNext,
  isSuccess,
  parseDuration,
  parseRetryAfter,
  parseSchedule,
  shouldDisable,
  withJitter,
} from './schedule';

const fail = (statusCode: number | null, retryAfterMs: number | null = null) => ({
  statusCode,
  error: statusCode === null ? 'timeout' : `HTTP ${statusCode}`,
  retryAfterMs,
});
const mid = () => 0.5; // no jitter

describe('retry schedule', () => {
  it('the default is immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    assert.deepEqual(
      parseSchedule(DEFAULT_SCHEDULE),
      [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
    );
  });

  it('parses durations and refuses unit-less numbers other than 0', () => {
    assert.deepEqual(
      ['0', '250ms', '1.5s', '2m', '1h', '5d'].map(parseDuration),
      [0, 250, 1_500, 120_000, 3_600_000, 432_000_000],
    );
    for (const bad of ['5', '', 'soon', '5w', '-1s']) assert.throws(() => parseDuration(bad), bad);
    assert.throws(() => parseSchedule('0,5s,x'), /"x" is not a duration/);
  });

  it('each failed attempt is followed by the next delay, with ±10 % jitter', () => {
    const schedule = parseSchedule(DEFAULT_SCHEDULE);
    assert.deepEqual(decideNext(1, fail(500), schedule, mid), { kind: 'retry', delayMs: 5_000 });
    assert.deepEqual(decideNext(2, fail(null), schedule, mid), { kind: 'retry', delayMs: 300_000 });
    assert.deepEqual(decideNext(7, fail(404), schedule, mid), {
      kind: 'retry',
      delayMs: 36_000_000,
    });
    assert.deepEqual(decideNext(8, fail(500), schedule, mid), { kind: 'failed' });
    assert.equal(
      withJitter(10_000, () => 0),
      9_000,
    );
    assert.equal(
      withJitter(10_000, () => 1),
      11_000,
    );
    assert.equal(
      withJitter(0, () => 1),
      0,
    );
  });

  it('2xx is delivered; 3xx (redirects are not followed) and 4xx/5xx are failures', () => {
    const schedule = [0, 1_000];
    assert.deepEqual(decideNext(1, fail(204), schedule), { kind: 'delivered' });
    assert.deepEqual(decideNext(2, fail(200), schedule), { kind: 'delivered' });
    for (const code of [301, 302, 307, 400, 410, 500]) assert.equal(isSuccess(code), false);
    assert.equal(isSuccess(null), false);
  });

  it('honours Retry-After on 429 and 503 only, never shortening the schedule', () => {
    const schedule = [0, 5_000, 300_000];
    assert.deepEqual(decideNext(1, fail(429, 60_000), schedule, mid), {
      kind: 'retry',
      delayMs: 60_000,
    });
    assert.deepEqual(decideNext(1, fail(503, 1_000), schedule, mid), {
      kind: 'retry',
      delayMs: 5_000,
    });
    assert.deepEqual(decideNext(1, fail(500, 60_000), schedule, mid), {
      kind: 'retry',
      delayMs: 5_000,
    });
    const now = Date.parse('2026-12-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Tue, 01 Dec 2026 00:01:30 GMT', now), 90_000);
    assert.equal(parseRetryAfter('Mon, 30 Nov 2026 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('99999999', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(undefined, now), null);
  });

  it('disables an endpoint that failed without a success for the whole period', () => {
    const day = 86_400_000;
    const now = Date.parse('2026-12-06T00:00:00Z');
    assert.equal(shouldDisable(null, now, 5 * day), false);
    assert.equal(shouldDisable(new Date(now - 4 * day), now, 5 * day), false);
    assert.equal(shouldDisable(new Date(now - 5 * day), now, 5 * day), true);
  });
});
