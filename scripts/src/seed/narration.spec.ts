import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SAMPLE_RATE, verseSampleCounts, verseTimings } from './narration';

void describe('narration timings', () => {
  void it('give 0.06 s per character with a 2 s minimum', () => {
    const samples = verseSampleCounts([
      { id: 'a', text: 'x'.repeat(10) },
      { id: 'b', text: 'x'.repeat(100) },
    ]);
    assert.deepEqual(samples, [2 * SAMPLE_RATE, Math.round(6 * SAMPLE_RATE)]);
  });

  void it('are contiguous, in whole milliseconds and end within the generated audio', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 600 }), { minLength: 1, maxLength: 80 }),
        (texts) => {
          const verses = texts.map((text, i) => ({ id: `v${i}`, text }));
          const samples = verseSampleCounts(verses);
          const timings = verseTimings(verses, samples);
          assert.equal(timings.length, verses.length);
          assert.equal(timings[0].startTimeSeconds, 0);
          for (let i = 0; i < timings.length; i++) {
            const t = timings[i];
            assert.equal(t.verseId, `v${i}`);
            assert.ok(t.durationSeconds > 0);
            assert.ok(Number.isInteger(Math.round(t.startTimeSeconds * 1000)));
            if (i > 0) {
              const prev = timings[i - 1];
              assert.ok(
                Math.abs(prev.startTimeSeconds + prev.durationSeconds - t.startTimeSeconds) < 1e-9,
              );
            }
          }
          const last = timings[timings.length - 1];
          const pcmSeconds = samples.reduce((a, b) => a + b, 0) / SAMPLE_RATE;
          assert.ok(last.startTimeSeconds + last.durationSeconds <= pcmSeconds + 1e-9);
        },
      ),
    );
  });
});
