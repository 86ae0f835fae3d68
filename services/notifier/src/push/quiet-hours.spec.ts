import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidTimezone, quietHoursEnd, secondsOfDay } from './quiet-hours';

const at = (iso: string) => new Date(iso);

describe('quiet hours', () => {
  it('outside the window: now', () => {
    const now = at('2026-06-01T12:00:00Z');
    assert.equal(quietHoursEnd(now, { start: '22:00', end: '07:00', timezone: 'UTC' }), now);
  });

  it('a window across midnight, before and after midnight', () => {
    const q = { start: '22:00', end: '07:00', timezone: 'UTC' };
    assert.equal(
      quietHoursEnd(at('2026-06-01T23:30:00Z'), q).toISOString(),
      '2026-06-02T07:00:00.000Z',
    );
    assert.equal(
      quietHoursEnd(at('2026-06-02T03:15:20Z'), q).toISOString(),
      '2026-06-02T07:00:00.000Z',
    );
    // The end itself is outside (half-open window).
    const end = at('2026-06-02T07:00:00Z');
    assert.equal(quietHoursEnd(end, q), end);
  });

  it('in another zone (Berlin summer time is UTC+2)', () => {
    const q = { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' };
    assert.equal(
      quietHoursEnd(at('2026-06-01T21:00:00Z'), q).toISOString(),
      '2026-06-02T05:00:00.000Z',
    );
    assert.equal(
      quietHoursEnd(at('2026-06-01T19:00:00Z'), q).toISOString(),
      '2026-06-01T19:00:00.000Z',
    );
  });

  it('across a DST change the end is still 07:00 local', () => {
    // Night of 28-29 March 2026: Berlin moves from UTC+1 to UTC+2 at 01:00Z.
    const q = { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' };
    assert.equal(
      quietHoursEnd(at('2026-03-28T22:00:00Z'), q).toISOString(),
      '2026-03-29T05:00:00.000Z',
    );
  });

  it('a same-day window with seconds; an empty window', () => {
    const q = { start: '10:00:05', end: '10:00:20', timezone: 'UTC' };
    assert.equal(
      quietHoursEnd(at('2026-06-01T10:00:10Z'), q).toISOString(),
      '2026-06-01T10:00:20.000Z',
    );
    const now = at('2026-06-01T10:00:10Z');
    assert.equal(quietHoursEnd(now, { start: '10:00', end: '10:00', timezone: 'UTC' }), now);
  });

  it('parses times and zones strictly', () => {
    assert.equal(secondsOfDay('07:30'), 27_000);
    assert.throws(() => secondsOfDay('24:00'));
    assert.throws(() => secondsOfDay('7:30'));
    assert.ok(isValidTimezone('America/Sao_Paulo'));
    assert.ok(!isValidTimezone('Mars/Olympus'));
  });
});
