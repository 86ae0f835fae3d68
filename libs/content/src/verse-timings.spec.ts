import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseTime,
  parseTimingsCsv,
  parseTimingsJson,
  splitCsv,
  validateTimings,
} from './verse-timings';

const verses = [1, 2, 3, 4].map((n) => ({ id: `john-1-${n}`, number: n }));
const file = { durationSeconds: 10, verses };

describe('parseTime', () => {
  it('reads seconds and m:ss / h:mm:ss', () => {
    assert.equal(parseTime('12.5'), 12.5);
    assert.equal(parseTime(3), 3);
    assert.equal(parseTime('1:02.25'), 62.25);
    assert.equal(parseTime('1:00:02'), 3602);
    for (const bad of ['', 'soon', '1:60', '-1', '1:2:3:4', Number.NaN, null]) {
      assert.equal(parseTime(bad), null, String(bad));
    }
  });
});

describe('splitCsv', () => {
  it('handles quotes, CRLF, blank lines and comments with the right line numbers', () => {
    const records = splitCsv('a,b\r\n\r\n# note\n"x, y","he said ""hi"""\n3,4', ',');
    assert.deepEqual(records, [
      { line: 1, cells: ['a', 'b'] },
      { line: 4, cells: ['x, y', 'he said "hi"'] },
      { line: 5, cells: ['3', '4'] },
    ]);
  });
});

describe('parseTimingsCsv', () => {
  it('parses verse numbers or ids with end or duration, any delimiter', () => {
    const { rows, issues } = parseTimingsCsv('verse_id;start;duration\njohn-1-1;0;1.5\n');
    assert.deepEqual(issues, []);
    assert.deepEqual(rows, [
      { at: 'line.2', line: 2, verseId: 'john-1-1', startSeconds: 0, durationSeconds: 1.5 },
    ]);
    const tab = parseTimingsCsv('verse\tstart\tend\n2\t1:00\t1:02\n');
    assert.equal(tab.rows[0].durationSeconds, 2);
  });

  it('names the line and column of every problem', () => {
    const { issues } = parseTimingsCsv('verse,start,end\n1,0,1\nx,2,1\n3,,4\n4,5,6,7\n');
    assert.deepEqual(
      issues.map((i) => i.field),
      ['line.3.verse', 'line.3.end', 'line.4.start', 'line.5'],
    );
    assert.ok(issues.every((i) => typeof i.line === 'number'));
    assert.equal(parseTimingsCsv('verse,start,stop\n').issues[0].field, 'line.1.stop');
    assert.equal(parseTimingsCsv('').issues[0].field, 'header');
  });

  it('requires the file column for folder-level timings', () => {
    const { issues } = parseTimingsCsv('verse,start,end\n1,0,1\n', { requireFile: true });
    assert.equal(issues[0].field, 'line.2.file');
  });
});

describe('parseTimingsJson', () => {
  it('accepts { timings } or a bare array and reports zod paths', () => {
    assert.equal(parseTimingsJson({ timings: [{ verse: 1, start: 0, end: 1 }] }).rows.length, 1);
    assert.equal(
      parseTimingsJson([{ verseId: 'a', start: '0:01', duration: 1 }]).rows[0].startSeconds,
      1,
    );
    const bad = parseTimingsJson({
      timings: [
        { verse: 1, start: 0 },
        { verse: 1, start: 0, end: 1, x: 1 },
      ],
    });
    assert.deepEqual(
      bad.issues.map((i) => i.field),
      ['timings.0.end', 'timings.1'],
    );
    assert.equal(parseTimingsJson({ nope: 1 }).issues[0].field, 'timings');
  });
});

describe('validateTimings', () => {
  const rows = (list: [number, number, number][]) =>
    list.map(([verse, start, end], i) => ({
      at: `timings.${i}`,
      verse,
      startSeconds: start,
      durationSeconds: end - start,
    }));

  it('accepts ordered, non-overlapping timings inside the file', () => {
    const { timings, issues } = validateTimings(
      rows([
        [1, 0, 2],
        [2, 2, 4],
        [4, 5, 10],
      ]),
      file,
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(
      timings.map((t) => t.verseId),
      ['john-1-1', 'john-1-2', 'john-1-4'],
    );
  });

  it('rejects timings outside the file, unknown or repeated verses, disorder and overlap', () => {
    const { issues } = validateTimings(
      [
        ...rows([
          [1, 0, 2],
          [9, 2, 3],
          [2, 1.5, 3],
          [2, 3, 4],
          [4, 4, 11],
        ]),
        { at: 'timings.5', verseId: 'john-2-1', startSeconds: 0, durationSeconds: 1 },
      ],
      file,
    );
    assert.deepEqual(
      issues.map((i) => i.field),
      [
        'timings.1.verse',
        'timings.2.start',
        'timings.3.verse',
        'timings.4.end',
        'timings.5.verseId',
      ],
    );
  });

  it('never accepts a set that ends after the audio (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 20, noNaN: true }),
            fc.double({ min: 0.01, max: 5, noNaN: true }),
          ),
          {
            maxLength: 4,
          },
        ),
        (spans) => {
          const input = spans.map(([start, duration], i) => ({
            at: `timings.${i}`,
            verse: i + 1,
            startSeconds: start,
            durationSeconds: duration,
          }));
          const { timings, issues } = validateTimings(input, file);
          if (issues.length > 0) return true;
          return timings.every((t) => t.startSeconds + t.durationSeconds <= 10 + 1e-6);
        },
      ),
    );
  });
});
