import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AudioIntegrity, mpegFrame } from './audio-integrity';
import { CorruptAudioError, checkMeasurement, sniffAudioFormat } from './audio-probe';

/** One MPEG-2 Layer III frame: 22.05 kHz, 32 kbit/s, no padding (104 bytes). */
function frame(): Buffer {
  const f = Buffer.alloc(104);
  f.set([0xff, 0xf3, 0x40, 0xc4]);
  return f;
}

describe('sniffAudioFormat', () => {
  it('recognises ID3-tagged and bare mp3, and ftyp m4a', () => {
    const id3 = Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), frame()]);
    assert.equal(sniffAudioFormat(id3), 'mp3');
    assert.equal(sniffAudioFormat(frame()), 'mp3');
    const m4a = Buffer.from('\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00', 'latin1');
    assert.equal(sniffAudioFormat(m4a), 'm4a');
  });

  it('rejects text, images, other MPEG layers and video brands', () => {
    assert.equal(sniffAudioFormat(Buffer.from('hello world, not audio')), null);
    assert.equal(
      sniffAudioFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
      null,
    );
    assert.equal(sniffAudioFormat(Buffer.from([0xff, 0xfd, 0x40, 0xc4])), null); // layer II
    assert.equal(sniffAudioFormat(Buffer.from('\x00\x00\x00\x1cftypqt  ', 'latin1')), null);
    const id3NoFrame = Buffer.concat([
      Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'),
      Buffer.alloc(8),
    ]);
    assert.equal(sniffAudioFormat(id3NoFrame), null);
  });
});

describe('AudioIntegrity', () => {
  it('follows the mp3 frame chain, in any chunking', () => {
    const file = Buffer.concat([frame(), frame(), frame(), Buffer.from('TAG'), Buffer.alloc(125)]);
    for (const size of [1, 3, 50, 1000]) {
      const check = new AudioIntegrity('mp3');
      for (let i = 0; i < file.length; i += size) check.update(file.subarray(i, i + size));
      const result = check.finish();
      assert.equal(result.ok, true, String(size));
      assert.ok(Math.abs((result.frameSeconds ?? 0) - (3 * 576) / 22050) < 1e-9);
    }
    assert.equal(mpegFrame(frame())?.length, 104);
  });

  it('reports where an mp3 stops being frames', () => {
    const check = new AudioIntegrity('mp3');
    check.update(Buffer.concat([frame(), Buffer.alloc(300, 0x55)]));
    assert.deepEqual(check.finish(), {
      ok: false,
      message: 'MPEG frame sync lost at byte 104 (corrupt, or not one mp3 stream)',
    });
  });

  it('requires m4a boxes to tile the file', () => {
    const box = (type: string, size: number) => {
      const b = Buffer.alloc(size);
      b.writeUInt32BE(size);
      b.write(type, 4, 'latin1');
      return b;
    };
    const good = Buffer.concat([box('ftyp', 20), box('moov', 40), box('mdat', 100)]);
    const ok = new AudioIntegrity('m4a');
    ok.update(good);
    assert.equal(ok.finish().ok, true);
    const cut = new AudioIntegrity('m4a');
    cut.update(good.subarray(0, 120));
    assert.match(cut.finish().message ?? '', /truncated/);
  });
});

describe('checkMeasurement', () => {
  it('accepts a consistent mp3 and rejects one whose header outlives its frames', () => {
    const parsed = { codec: 'MPEG 2 Layer 3', duration: 3, bitrate: 32000, sampleRate: 22050 };
    assert.equal(
      checkMeasurement('mp3', parsed, 12_000, { ok: true, frameSeconds: 3 }).bitrate,
      32000,
    );
    assert.throws(
      () => checkMeasurement('mp3', parsed, 12_000, { ok: true, frameSeconds: 1 }),
      CorruptAudioError,
    );
    assert.throws(
      () => checkMeasurement('mp3', { ...parsed, duration: undefined }, 12_000),
      CorruptAudioError,
    );
    assert.throws(
      () => checkMeasurement('mp3', { ...parsed, codec: 'MPEG 2 Layer 2' }, 12_000),
      CorruptAudioError,
    );
  });
});
